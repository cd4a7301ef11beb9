! Kinds: REAL(4) arrays and scalars, mixed-kind expressions and assignments (conversions both
! ways), COMPLEX(8) arithmetic and intrinsics, REAL(4) reductions.
module kinds_model
  implicit none
contains
  function single(x) result(r)           ! REAL(4) data, REAL(8) result
    real(4), intent(in) :: x(:)
    real(8) :: r
    real(4), allocatable :: y(:)
    real(8), allocatable :: z(:)
    y = x * x + sin(x)                   ! REAL(4) arithmetic
    z = y                                ! REAL(4) -> REAL(8) assignment
    r = sum(z * x) + real(sum(y), 8) + norm2(x) + real(maxval(y) * product(x(1:2)), 8)
  end function

  function cplx(x) result(r)             ! COMPLEX(8) in between
    real(8), intent(in) :: x(:)
    real(8) :: r
    complex(8), allocatable :: c(:)
    complex(8) :: s
    integer :: i
    c = cmplx(x, x ** 2, kind=8)
    s = (0d0, 0d0)
    do i = 1, size(c)
      s = s + c(i) * conjg(c(i)) + exp(c(i) / 4) * c(i) + log(c(i) + 1) + sqrt(c(i)) / (c(i) + 2) &
          + sin(c(i) / 3) * cos(c(i) / 5) + tan(c(i) / 7) + sinh(c(i) / 4) - cosh(c(i) / 6) + tanh(c(i)) &
          + (c(i) + 1) ** (c(1) / 5) + abs(c(i)) ** 2
    end do
    r = real(s) + aimag(s) ** 2 + abs(sum(c * c))
  end function
end module

program kinds
  use adcc_ad
  use fdcheck
  use kinds_model
  implicit none
  integer, parameter :: n = 4
  real(4) :: x4(n), dx4(n), e4(n)
  real(8) :: x(n), dx(n), fd(n), t(n), e(n), r4(n)
  integer :: i
  x4 = [(0.25 * i, i = 1, n)]
  dx4 = 0
  call autodiff(single, enzyme_dup, x4, dx4)
  do i = 1, n   ! finite differences in double precision through a REAL(8) twin of the function
    r4(i) = (single8(real(x4, 8), i, 1d-3) - single8(real(x4, 8), i, -1d-3)) / 2d-3
  end do
  call check("REAL(4) reverse (finite differences)", real(dx4, 8), r4, 2d-3)
  do i = 1, n
    e4 = 0; e4(i) = 1
    call fwddiff(single, enzyme_dup, x4, e4, tangent=t(i))
  end do
  call check("REAL(4) forward", t, real(dx4, 8), 1d-5)

  x = [(0.3d0 * i - 0.1d0, i = 1, n)]
  dx = 0
  call autodiff(cplx, enzyme_dup, x, dx)
  call fd_gradient(cplx, x, fd)
  call check_fd("COMPLEX(8) reverse", dx, fd)
  do i = 1, n
    e = 0; e(i) = 1
    call fwddiff(cplx, enzyme_dup, x, e, tangent=t(i))
  end do
  call check("COMPLEX(8) forward", t, dx, 1d-9)
  call finish("fortran/kinds")
contains
  function single8(v, k, h) result(r)    ! `single` evaluated at v + h e_k in REAL(4)
    real(8), intent(in) :: v(:), h
    integer, intent(in) :: k
    real(8) :: r
    real(4) :: w(size(v))
    w = real(v, 4)
    w(k) = w(k) + real(h, 4)
    r = single(w)
  end function
end program
