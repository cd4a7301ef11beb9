! Sections of an enzyme_const argument passed on to other procedures while the derivative flows
! through another argument: the section's descriptor holds only the constant array's address and
! bounds, so the procedure receives it as constant (no shadow descriptor whose data is nowhere).
module const_sections_model
  implicit none
contains
  subroutine grow(a, x)
    real(8), allocatable, intent(inout) :: a(:)
    real(8), intent(in) :: x(:)
    a = [a, x * x]
  end subroutine

  function loss(x, w) result(r)
    real(8), intent(in) :: x(:), w(:)
    real(8) :: r
    real(8), allocatable :: acc(:)
    allocate(acc(0))
    call grow(acc, x(2:))
    r = sum(acc) * w(1) + sum(x(1:3) * w(1:3))
  end function
end module

program const_sections
  use adcc_ad
  use fdcheck
  use const_sections_model
  implicit none
  real(8) :: x(5), w(5), dw(5), e(5), t(5), x0(5)
  integer :: i
  x = [1d0, 2d0, 3d0, 4d0, 5d0]
  w = 1d0 / x
  x0 = x
  dw = 0
  call autodiff(loss, enzyme_const, x, enzyme_dup, w, dw)
  call check("reverse", dw, [sum(x0(2:) ** 2) + x0(1), x0(2), x0(3), 0d0, 0d0])
  call check("x is left as it was", x, x0)
  do i = 1, 5
    e = 0; e(i) = 1
    call fwddiff(loss, enzyme_const, x, enzyme_dup, w, e, tangent=t(i))
  end do
  call check("forward", t, dw)
  call finish("fortran/const_sections")
end program
