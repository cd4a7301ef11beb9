! Checks for the Fortran end-to-end tests: derivatives from adcc_ad compared with central finite
! differences (rtol 1e-5) and hand-written derivatives (rtol 1e-10); `finish` prints PASS <name>
! and stops with status 1 after any mismatch.
module fdcheck
  implicit none
  private
  public :: check, check_fd, finish, fd_step, fd_gradient
  integer :: failures = 0

  interface check
    module procedure check_array, check_scalar
  end interface

  abstract interface
    function objective(x) result(r)
      real(8), intent(in) :: x(:)
      real(8) :: r
    end function
  end interface
contains
  pure function fd_step(x) result(h)
    real(8), intent(in) :: x
    real(8) :: h
    h = 1d-6 * max(1d0, abs(x))
  end function

  ! the gradient of f at x by central differences
  subroutine fd_gradient(f, x, g)
    procedure(objective) :: f
    real(8), intent(in) :: x(:)
    real(8), intent(out) :: g(:)
    real(8) :: p(size(x))
    integer :: i
    do i = 1, size(x)
      p = x; p(i) = x(i) + fd_step(x(i)); g(i) = f(p)
      p = x; p(i) = x(i) - fd_step(x(i)); g(i) = (g(i) - f(p)) / (2 * fd_step(x(i)))
    end do
  end subroutine

  subroutine check_array(what, got, want, rtol)
    character(*), intent(in) :: what
    real(8), intent(in) :: got(:), want(:)
    real(8), intent(in), optional :: rtol
    integer :: i
    real(8) :: tol
    tol = 1d-10
    if (present(rtol)) tol = rtol
    if (size(got) /= size(want)) then
      print '(a, a, i0, a, i0)', what, ": size ", size(got), " /= ", size(want)
      failures = failures + 1
      return
    end if
    do i = 1, size(got)
      if (abs(got(i) - want(i)) > tol * max(1d0, abs(want(i)))) then
        print '(a, a, i0, a, es24.16, a, es24.16)', what, "(", i, "): got ", got(i), ", want ", want(i)
        failures = failures + 1
      end if
    end do
  end subroutine

  subroutine check_scalar(what, got, want, rtol)
    character(*), intent(in) :: what
    real(8), intent(in) :: got, want
    real(8), intent(in), optional :: rtol
    call check_array(what, [got], [want], rtol)
  end subroutine

  subroutine check_fd(what, got, want)
    character(*), intent(in) :: what
    real(8), intent(in) :: got(:), want(:)
    call check_array(what // " (finite differences)", got, want, 1d-5)
  end subroutine

  subroutine finish(name)
    character(*), intent(in) :: name
    if (failures > 0) then
      print '(a, i0, a)', "FAIL ", failures, " mismatch(es) in " // name
      stop 1, quiet=.true.
    end if
    print '(a)', "PASS " // name
  end subroutine
end module fdcheck
