! Constant data reaching procedures through descriptors built for the call while the derivative
! flows through other arguments: strided and reversed sections of an enzyme_const array, a
! copy-in temporary of a constant strided section for an explicit-shape dummy; and a section of a
! local array that a procedure fills with active values (its descriptor must keep its shadow).
module const_section_calls_model
  implicit none
contains
  ! (recursive, so that they stay calls: each level passes on sections of its dummies)
  recursive function dotw(a, b) result(r)
    real(8), intent(in) :: a(:), b(:)
    real(8) :: r
    r = 0
    if (size(a) > 0) r = a(1) * b(1) + dotw(a(2:), b(2:))
  end function

  recursive function edot(n, a, b) result(r)
    integer, intent(in) :: n
    real(8), intent(in) :: a(n), b(n)
    real(8) :: r
    r = 0
    if (n > 0) r = a(1) * b(1) ** 2 + edot(n - 1, a(2:), b(2:))
  end function

  recursive subroutine fill(y, v, c)
    real(8), intent(out) :: y(:)
    real(8), intent(in) :: v(:), c(:)
    if (size(y) == 0) return
    y(1) = v(1) * c(1)
    call fill(y(2:), v(2:), c(2:))
  end subroutine

  function loss(x, w) result(r)
    real(8), intent(in) :: x(:), w(:)
    real(8) :: r
    real(8) :: tmp(6)
    tmp = 0
    r = dotw(x(1:5:2), w(1:3))                 ! a strided section of the constant array
    r = r + edot(2, x(2:5:3), w(4:5))          ! copy-in of a constant strided section
    call fill(tmp(1:5:2), w(1:3), x(3:5))      ! active data into a local array's section
    r = r + sum(tmp * tmp) + dotw(x(5:1:-2), tmp(1:5:2))
  end function
end module

program const_section_calls
  use adcc_ad
  use fdcheck
  use const_section_calls_model
  implicit none
  real(8) :: x(5), w(5), dw(5), e(5), t(5), x0(5), g(5)
  integer :: i
  x = [1d0, 2d0, 3d0, 4d0, 5d0]
  w = [0.5d0, -1d0, 1.5d0, 2d0, -0.25d0]
  x0 = x
  dw = 0
  call autodiff(loss, enzyme_const, x, enzyme_dup, w, dw)
  call fd_gradient(f, w, g)
  call check_fd("reverse", dw, g)
  call check("reverse", dw, [x0(1) + 2 * w(1) * x0(3) ** 2 + x0(5) * x0(3), &
                             x0(3) + 2 * w(2) * x0(4) ** 2 + x0(3) * x0(4), &
                             x0(5) + 2 * w(3) * x0(5) ** 2 + x0(1) * x0(5), &
                             2 * x0(2) * w(4), 2 * x0(5) * w(5)])
  call check("x is left as it was", x, x0)
  do i = 1, 5
    e = 0; e(i) = 1
    call fwddiff(loss, enzyme_const, x, enzyme_dup, w, e, tangent=t(i))
  end do
  call check("forward", t, dw)
  call finish("fortran/const_section_calls")
contains
  function f(v) result(r)
    real(8), intent(in) :: v(:)
    real(8) :: r
    r = loss(x0, v)
  end function
end program
