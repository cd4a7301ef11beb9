program main
  use constants, only: dp
  use model, only: energy
  implicit none
  real(dp) :: x(3) = [1.0_dp, 2.0_dp, 3.0_dp]
  print '(a,f6.2)', 'energy ', energy(x, 3)
end program main
