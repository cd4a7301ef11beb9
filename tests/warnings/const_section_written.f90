! A section of an enzyme_const array handed to a procedure that stores active values into it,
! read back into the result: the derivative through it is dropped (a warning naming x, the store
! inside the procedure and the load). A section that is only read warns about nothing.
module const_section_written_model
  implicit none
contains
  recursive subroutine scale(a, s)
    real(8), intent(inout) :: a(:)
    real(8), intent(in) :: s
    if (size(a) == 0) return
    a(1) = a(1) * s
    call scale(a(2:), s)
  end subroutine

  recursive function dotw(a, b) result(r)
    real(8), intent(in) :: a(:), b(:)
    real(8) :: r
    r = 0
    if (size(a) > 0) r = a(1) * b(1) + dotw(a(2:), b(2:))
  end function

  function written(x, w) result(r)
    real(8), intent(inout) :: x(:)
    real(8), intent(in) :: w(:)
    real(8) :: r
    call scale(x(1:3), w(1))
    r = sum(x)
  end function

  function read_only(x, w) result(r)
    real(8), intent(inout) :: x(:)
    real(8), intent(in) :: w(:)
    real(8) :: r
    r = dotw(x(1:4:2), w)
  end function
end module

program const_section_written
  use adcc_ad
  use const_section_written_model
  implicit none
  real(8) :: x(5), w(2), dw(2)
  x = 1; w = 2; dw = 0
  call autodiff(written, enzyme_const, x, enzyme_dup, w, dw)
  print '(a, 2f8.3)', "written ", dw
  x = [1, 2, 3, 4, 5]; dw = 0
  call autodiff(read_only, enzyme_const, x, enzyme_dup, w, dw)
  print '(a, 2f8.3)', "read_only ", dw
end program
