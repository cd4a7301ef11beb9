! COMPLEX(8) arrays as arguments of the differentiated procedure (enzyme_dup with a complex
! shadow): reverse mode gives d/d(real part) + i d/d(imaginary part) of a real result, forward
! mode the directional derivative along a complex tangent; a strided section of the argument.
module complex_args_model
  implicit none
contains
  function loss(z, w) result(r)
    complex(8), intent(in) :: z(:)
    real(8), intent(in) :: w(:)
    real(8) :: r
    r = sum(real(z * conjg(z)) * w) + real(sum(z(1:3:2) * (0d0, 1d0)))
  end function
end module

program complex_args
  use adcc_ad
  use fdcheck
  use complex_args_model
  implicit none
  complex(8) :: z(3), dz(3), tz(3)
  real(8) :: w(3), t, gre(3), gim(3)
  z = [(1d0, 2d0), (-0.5d0, 0.25d0), (3d0, -1d0)]
  w = [1d0, 2d0, 0.5d0]
  gre = 2 * real(z) * w
  gim = 2 * aimag(z) * w - [1d0, 0d0, 1d0]
  dz = 0
  call autodiff(loss, enzyme_dup, z, dz, enzyme_const, w)
  call check("reverse, real parts", real(dz), gre)
  call check("reverse, imaginary parts", aimag(dz), gim)
  call check_fd("reverse, real parts", real(dz), [(fd(k, (1d0, 0d0)), integer :: k = 1, 3)])
  call check_fd("reverse, imaginary parts", aimag(dz), [(fd(k, (0d0, 1d0)), integer :: k = 1, 3)])
  tz = [(1d0, 0d0), (0d0, 0.5d0), (-1d0, 2d0)]
  call fwddiff(loss, enzyme_dup, z, tz, enzyme_const, w, tangent=t)
  call check("forward", t, sum(gre * real(tz) + gim * aimag(tz)))
  call finish("fortran/complex_args")
contains
  real(8) function fd(k, dir)
    integer, intent(in) :: k
    complex(8), intent(in) :: dir
    complex(8) :: p(3)
    real(8) :: h
    h = 1d-6
    p = z; p(k) = z(k) + h * dir; fd = loss(p, w)
    p = z; p(k) = z(k) - h * dir; fd = (fd - loss(p, w)) / (2 * h)
  end function
end program
