! Kinds and constants shared by the modules of this project.
module constants
  implicit none
  integer, parameter :: dp = kind(1.0d0)
  real(dp), parameter :: two = 2.0_dp
end module constants
