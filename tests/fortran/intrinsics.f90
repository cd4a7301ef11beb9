! Array intrinsics and elemental math: SUM, PRODUCT, DOT_PRODUCT, MATMUL, TRANSPOSE, MAXVAL,
! MINVAL, MAXLOC, NORM2 (whole and DIM=), SPREAD, RESHAPE, PACK, UNPACK, CSHIFT, EOSHIFT, MERGE,
! WHERE, array constructors, and the elemental functions, in both modes.
module intrinsics_model
  implicit none
  integer, parameter :: n = 6
contains
  function reductions(x) result(r)
    real(8), intent(in) :: x(:)
    real(8) :: r
    real(8) :: a(3, 2)
    integer :: k(1)
    a = reshape(x, [3, 2])
    k = maxloc(x)
    r = sum(x) + product(x(1:3)) + dot_product(x, x(n:1:-1)) + maxval(x) - minval(a) &
        + sum(matmul(a, transpose(a))) + norm2(x) + sum(norm2(a, dim=1)) + x(k(1)) ** 2 &
        + sum(sum(a, dim=2)) + sum(maxval(a, dim=1))
  end function

  function movements(x) result(r)
    real(8), intent(in) :: x(:)
    real(8) :: r
    real(8), allocatable :: s(:, :), p(:), u(:)
    s = spread(x, 2, 3)
    p = pack(x, x > 0.5d0)
    u = unpack(x(1:3), [.true., .false., .true., .false., .true., .false.], x * 2)
    r = sum(s * s) + sum(p ** 3) + sum(u * x) + sum(cshift(x, 2) * x) + sum(eoshift(x, 1, 7d0) * x) &
        + sum(merge(x, -x, x > 0.3d0) * x) + sum([x(2), x, 2 * x(n)] ** 2)
  end function

  function elemental_math(x) result(r)
    real(8), intent(in) :: x(:)
    real(8) :: r
    real(8) :: y(size(x))
    y = sin(x) * cos(x) + exp(x / 3) + log(x + 2) + sqrt(x + 1) + tanh(x) + atan(x) + atan2(x, 1.5d0) &
        + hypot(x, 0.5d0) + x ** 2.5d0 + x ** 3 + abs(x - 0.6d0) + sign(x, -1d0) + max(x, 0.7d0) &
        + min(x, 0.4d0) + erf(x) + asinh(x) + acos(x / 2) + mod(x * 7, 2d0) + modulo(x * 5, 1.5d0)
    where (x > 0.5d0)
      y = y * x
    elsewhere
      y = y / (1 + x)
    end where
    r = sum(y * y)
  end function
end module

program intrinsics
  use adcc_ad
  use fdcheck
  use intrinsics_model
  implicit none
  real(8) :: x(n), dx(n), t(n), e(n)
  integer :: i
  do i = 1, n
    x(i) = 0.13d0 * i + 0.05d0 * mod(i * 7, 5)
  end do
  dx = 0
  call autodiff(reductions, enzyme_dup, x, dx)
  do i = 1, n
    e = 0; e(i) = 1
    call fwddiff(reductions, enzyme_dup, x, e, tangent=t(i))
  end do
  call compare("reductions", reductions)
  dx = 0
  call autodiff(movements, enzyme_dup, x, dx)
  do i = 1, n
    e = 0; e(i) = 1
    call fwddiff(movements, enzyme_dup, x, e, tangent=t(i))
  end do
  call compare("movements", movements)
  dx = 0
  call autodiff(elemental_math, enzyme_dup, x, dx)
  do i = 1, n
    e = 0; e(i) = 1
    call fwddiff(elemental_math, enzyme_dup, x, e, tangent=t(i))
  end do
  call compare("elemental math", elemental_math)
  call finish("fortran/intrinsics")
contains
  subroutine compare(what, f)   ! reverse against finite differences, forward against reverse
    character(*), intent(in) :: what
    interface
      function f(x) result(r)
        real(8), intent(in) :: x(:)
        real(8) :: r
      end function
    end interface
    real(8) :: fd(n)
    call fd_gradient(f, x, fd)
    call check_fd(what // ": reverse", dx, fd)
    call check(what // ": forward", t, dx, 1d-9)
  end subroutine
end program
