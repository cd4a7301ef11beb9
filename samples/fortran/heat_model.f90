! A 1-D heat equation with a spatially varying diffusivity: the model the sample calibrates.
module heat_model
  implicit none
  private
  public :: simulate, misfit

contains

  ! Explicit Euler steps of u_t = (kappa u_x)_x on a uniform grid with fixed ends.
  subroutine simulate(kappa, u, steps, dt)
    real(8), intent(in) :: kappa(:)        ! diffusivity at the cell faces (size(u) - 1)
    real(8), intent(inout) :: u(:)
    integer, intent(in) :: steps
    real(8), intent(in) :: dt
    real(8), allocatable :: flux(:)
    integer :: k, n
    n = size(u)
    do k = 1, steps
      flux = kappa * (u(2:n) - u(1:n - 1))          ! reallocated on assignment
      u(2:n - 1) = u(2:n - 1) + dt * (flux(2:n - 1) - flux(1:n - 2))
    end do
  end subroutine

  ! Half the squared distance between the simulated and the observed final state, plus a
  ! smoothness penalty on the diffusivity.
  function misfit(kappa, u0, observed, steps, dt) result(j)
    real(8), intent(in) :: kappa(:), u0(:), observed(:)
    integer, intent(in) :: steps
    real(8), intent(in) :: dt
    real(8) :: j
    real(8), allocatable :: u(:)
    u = u0
    call simulate(kappa, u, steps, dt)
    j = 0.5d0 * sum((u - observed) ** 2) + 1d-3 * sum((kappa(2:) - kappa(:size(kappa) - 1)) ** 2)
  end function
end module heat_model
