! A module that uses another module: the build must compile constants.f90 first and find
! its .mod file in the module directory.
module model
  use constants, only: dp, two
  implicit none
contains
  pure function energy(x, n) result(e)
    integer, intent(in) :: n
    real(dp), intent(in) :: x(n)
    real(dp) :: e
    e = sum(x**2) / two
  end function energy
end module model
