! Kernels whose intrinsics flang evaluates in its runtime library when it does not optimize
! (test_fortran.py compiles this file with flang-new-22 -O0 to LLVM IR, then adflang
! differentiates that IR): SUM, PRODUCT, MAXVAL, MINVAL (whole, DIM=, MASK=), NORM2 (DIM=),
! DOT_PRODUCT, MATMUL, TRANSPOSE, RESHAPE, SPREAD, CSHIFT, EOSHIFT, PACK, UNPACK.
module kernels
  implicit none
contains
  function reduce(x) result(r)
    real(8), intent(in) :: x(:)
    real(8) :: r
    real(8) :: a(3, 2)
    real(8), allocatable :: v(:)
    a = reshape(x, [3, 2])
    v = sum(a, dim=2) + maxval(a, dim=2) + product(a, dim=2) + norm2(a, dim=2) + minval(a, dim=2)
    r = sum(x) + product(x) + maxval(x) + minval(x) + dot_product(x, x(6:1:-1)) + sum(v) &
        + sum(x, mask=x > 0.5d0) + sum(sum(a, dim=1, mask=a < 0.6d0))
  end function

  function transform(x) result(r)
    real(8), intent(in) :: x(:)
    real(8) :: r
    real(8) :: a(3, 2)
    real(8), allocatable :: m(:, :)
    a = reshape(x, [3, 2])
    m = matmul(a, transpose(a)) + spread(x(1:3), 2, 3)
    r = sum(m * m) + sum(matmul(x(1:3), a) ** 2) + sum(cshift(x, 1) * x) + sum(eoshift(x, 2, 0.5d0) * x) &
        + sum(pack(x, x > 0.5d0) ** 2) + sum(unpack(x(1:2), [.true., .false., .true.], x(4:6)) * x(1:3)) &
        + sum(reshape(a, [2, 3], order=[2, 1]) * reshape(x, [2, 3]))
  end function
end module
