! Fortran: allocatable arrays, derived types, array intrinsics, real(10) (x86_fp80), complex.
! ir-corpus: -O3 -ffast-math
module shapes
  implicit none
  type :: particle
    real(8) :: x(3), v(3)
    real(8) :: mass
  end type particle
  type, extends(particle) :: charged
    real(8) :: q
  end type charged
contains
  pure function energy(p) result(e)
    type(particle), intent(in) :: p
    real(8) :: e
    e = 0.5d0 * p%mass * sum(p%v**2)
  end function energy

  subroutine step(ps, dt)
    type(particle), intent(inout) :: ps(:)
    real(8), intent(in) :: dt
    integer :: i
    do i = 1, size(ps)
      ps(i)%x = ps(i)%x + dt * ps(i)%v
    end do
  end subroutine step
end module shapes

function total_energy(n) result(t)
  use shapes
  implicit none
  integer, intent(in) :: n
  real(8) :: t
  type(particle), allocatable :: ps(:)
  real(8), allocatable :: w(:, :)
  integer :: i
  allocate(ps(n), w(n, n))
  do i = 1, n
    ps(i)%x = [1d0, 2d0, 3d0] * i
    ps(i)%v = [0.1d0, 0.2d0, 0.3d0]
    ps(i)%mass = 1d0 + i
  end do
  call step(ps, 0.01d0)
  w = matmul(reshape([(real(i, 8), i = 1, n * n)], [n, n]), transpose(reshape([(real(i, 8), i = 1, n * n)], [n, n])))
  t = sum([(energy(ps(i)), i = 1, n)]) + maxval(w) + norm2(ps(1)%x)
  deallocate(ps, w)
end function total_energy

function extended(x) result(r)
  implicit none
  real(10), intent(in) :: x
  real(10) :: r
  r = log(x) + exp(x) + sqrt(x) + x ** 2.5_10 + atan2(x, 2.0_10)
end function extended

subroutine sums(a, n, s, c)
  implicit none
  integer, intent(in) :: n
  real(8), intent(in) :: a(n)
  real(8), intent(out) :: s
  complex(8), intent(out) :: c
  s = dot_product(a, a) + product(a(1:min(n, 3)))
  c = cmplx(s, -s, 8) ** 2
end subroutine sums
