! Calibrates the diffusivity of heat_model against synthetic observations by gradient descent.
! The gradient of the misfit comes from adflang (`call autodiff`, reverse mode, one pass for all
! parameters) and is checked against central finite differences and against a directional
! derivative from forward mode (`call fwddiff`). Prints PASS and exits 0 when the checks hold and
! the misfit has decreased.
!
!   adflang -O2 heat_model.f90 calibrate.f90 -o calibrate && ./calibrate
program calibrate
  use adcc_ad
  use heat_model
  implicit none
  integer, parameter :: n = 24, steps = 40
  real(8), parameter :: dt = 0.1d0
  real(8) :: u0(n), observed(n), kappa(n - 1), truth(n - 1), grad(n - 1), trial(n - 1), dir(n - 1)
  real(8) :: j0, j, h, fd, directional, rate
  integer :: i, iteration
  logical :: ok

  do i = 1, n
    u0(i) = exp(-((i - n / 2d0) / 3d0) ** 2)
  end do
  do i = 1, n - 1
    truth(i) = 0.3d0 + 0.2d0 * sin(0.25d0 * i)
  end do
  observed = u0
  call simulate(truth, observed, steps, dt)

  kappa = 0.3d0
  grad = 0
  call autodiff(misfit, enzyme_dup, kappa, grad, enzyme_const, u0, enzyme_const, observed, &
                enzyme_const, steps, enzyme_const, dt)

  ! the gradient against central finite differences, one parameter at a time
  ok = .true.
  do i = 1, n - 1, 5
    h = 1d-6
    trial = kappa; trial(i) = kappa(i) + h
    fd = misfit(trial, u0, observed, steps, dt)
    trial(i) = kappa(i) - h
    fd = (fd - misfit(trial, u0, observed, steps, dt)) / (2 * h)
    if (abs(fd - grad(i)) > 1d-5 * max(1d0, abs(fd))) then
      print '(a, i0, 2es16.8)', "gradient mismatch at ", i, grad(i), fd
      ok = .false.
    end if
  end do
  ! forward mode: the derivative along dir is grad . dir
  dir = [(cos(0.7d0 * i), i = 1, n - 1)]
  call fwddiff(misfit, enzyme_dup, kappa, dir, enzyme_const, u0, enzyme_const, observed, &
               enzyme_const, steps, enzyme_const, dt, tangent=directional)
  if (abs(directional - dot_product(grad, dir)) > 1d-9 * max(1d0, abs(directional))) then
    print '(a, 2es16.8)', "forward/reverse mismatch ", directional, dot_product(grad, dir)
    ok = .false.
  end if

  ! gradient descent with a backtracking step
  j0 = misfit(kappa, u0, observed, steps, dt)
  rate = 1d0
  do iteration = 1, 60
    grad = 0
    call autodiff(misfit, enzyme_dup, kappa, grad, enzyme_const, u0, enzyme_const, observed, &
                  enzyme_const, steps, enzyme_const, dt)
    j = misfit(kappa, u0, observed, steps, dt)
    do
      trial = max(kappa - rate * grad, 1d-3)
      if (misfit(trial, u0, observed, steps, dt) < j .or. rate < 1d-8) exit
      rate = rate / 2
    end do
    kappa = trial
    rate = rate * 2
  end do
  j = misfit(kappa, u0, observed, steps, dt)
  print '(a, es12.4, a, es12.4)', "misfit ", j0, " -> ", j
  if (.not. (j < 0.1d0 * j0)) ok = .false.
  if (ok) then
    print '(a)', "PASS"
  else
    print '(a)', "FAIL"
    stop 1, quiet=.true.
  end if
end program calibrate
