! A time loop: explicit heat equation on allocatable work arrays swapped with MOVE_ALLOC, a
! data-dependent DO WHILE, module variables (active arrays and a parameter read from the module),
! intent(inout) state, and the array section arithmetic of a stencil.
module timeloop_model
  implicit none
  real(8), allocatable :: kappa(:)      ! diffusivity per cell: a module variable, differentiated
  real(8) :: dt = 0.1d0
contains
  subroutine advance(u, steps)
    real(8), intent(inout) :: u(:)
    integer, intent(in) :: steps
    real(8), allocatable :: next(:)
    integer :: k, n
    n = size(u)
    allocate(next(n))
    do k = 1, steps
      next(1) = u(1)
      next(n) = u(n)
      next(2:n - 1) = u(2:n - 1) + dt * kappa(2:n - 1) * (u(1:n - 2) - 2 * u(2:n - 1) + u(3:n))
      u = next                      ! u keeps its buffer: plain assignment
    end do
  end subroutine

  function energy(u0) result(e)
    real(8), intent(in) :: u0(:)
    real(8) :: e, change
    real(8), allocatable :: u(:), old(:)
    integer :: iterations
    u = u0
    call advance(u, 4)
    change = huge(1d0)
    iterations = 0
    do while (change > 1d-3 .and. iterations < 50)    ! stops after a data-dependent count
      old = u
      call advance(u, 1)
      change = maxval(abs(u - old))
      iterations = iterations + 1
      call move_alloc(u, old)       ! swap buffers through MOVE_ALLOC
      call move_alloc(old, u)
    end do
    e = sum(u ** 2) + 0.1d0 * iterations
  end function
end module

program timeloop
  use adcc_ad
  use fdcheck
  use timeloop_model
  implicit none
  integer, parameter :: n = 8
  real(8) :: u0(n), du0(n), fd(n), p(n), dkappa(n), fdk(n), t(n), e(n)
  integer :: i
  u0 = [(sin(0.4d0 * i) + 1, i = 1, n)]
  allocate(kappa(n))
  kappa = [(0.5d0 + 0.05d0 * i, i = 1, n)]
  du0 = 0
  call autodiff(energy, enzyme_dup, u0, du0)
  call fd_gradient(energy, u0, fd)
  call check_fd("reverse d/du0", du0, fd)
  do i = 1, n
    e = 0; e(i) = 1
    call fwddiff(energy, enzyme_dup, u0, e, tangent=t(i))
  end do
  call check("forward d/du0", t, du0, 1d-9)
  ! derivatives with respect to the module variable: a wrapper differentiates through it
  dkappa = 0
  call autodiff(energy_of_kappa, enzyme_dup, kappa, dkappa)
  do i = 1, n
    p = kappa; kappa(i) = p(i) + 1d-6; fdk(i) = energy(u0)
    kappa(i) = p(i) - 1d-6; fdk(i) = (fdk(i) - energy(u0)) / 2d-6
    kappa = p
  end do
  call check_fd("reverse d/dkappa", dkappa, fdk)
  call finish("fortran/timeloop")
contains
  function energy_of_kappa(k) result(e)
    real(8), intent(in) :: k(:)
    real(8) :: e
    kappa = k
    e = energy(u0)
  end function
end program
