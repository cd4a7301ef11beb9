! gmm.c in Fortran: the ADBench GMM objective (K Gaussians in d dimensions, Wishart prior) written
! as Fortran is written (assumed-shape dummies, array sections and expressions, automatic arrays,
! intrinsics), its reverse-mode gradient taken through the adcc_ad module. Same algorithm, inputs,
! timing, finite-difference check and JSON line as gmm.c, so the two gradient/primal ratios
! compare. Usage: gmm_fortran [--quick] [--size N (points)] DATA  (ADBench gmm_dD_KK.txt)
module gmm_objective_mod
  implicit none
  private
  public :: gmm_objective
  real(8), parameter :: pi = 3.141592653589793238d0
contains
  pure function log_sum_exp(v) result(r)
    real(8), intent(in) :: v(:)
    real(8) :: r, mx
    mx = maxval(v)
    r = log(sum(exp(v - mx))) + mx
  end function

  pure function log_gamma_p(a, p) result(r)   ! log of the multivariate gamma function
    real(8), intent(in) :: a
    integer, intent(in) :: p
    real(8) :: r
    integer :: j
    r = 0.25d0 * p * (p - 1) * log(pi)
    do j = 1, p
      r = r + log_gamma(a + 0.5d0 * (1 - j))
    end do
  end function

  ! icf(:, c): the log-diagonal of Q_c, then its strictly lower part packed column by column.
  function gmm_objective(alphas, means, icf, x, gamma, m) result(r)
    real(8), intent(in), contiguous :: alphas(:), means(:, :), icf(:, :), x(:, :)
    real(8), intent(in) :: gamma
    integer, intent(in) :: m
    real(8) :: r
    real(8) :: sum_qs(size(alphas)), qdiags(size(x, 1), size(alphas)), main_term(size(alphas))
    real(8) :: xc(size(x, 1)), qxc(size(x, 1))
    real(8) :: slse, prior, prior_const
    integer :: d, k, n, i, c, row, col, li, nw
    d = size(x, 1)
    n = size(x, 2)
    k = size(alphas)
    sum_qs = sum(icf(1:d, :), dim=1)
    qdiags = exp(icf(1:d, :))
    slse = 0
    do i = 1, n
      do c = 1, k
        xc = x(:, i) - means(:, c)
        qxc = qdiags(:, c) * xc
        li = d
        do col = 1, d
          do row = col + 1, d
            li = li + 1
            qxc(row) = qxc(row) + icf(li, c) * xc(col)
          end do
        end do
        main_term(c) = alphas(c) + sum_qs(c) - 0.5d0 * sum(qxc * qxc)
      end do
      slse = slse + log_sum_exp(main_term)
    end do
    nw = d + m + 1
    prior = 0
    do c = 1, k
      prior = prior + 0.5d0 * gamma * gamma * (sum(exp(2 * icf(1:d, c))) + sum(icf(d + 1:, c) ** 2)) &
              - m * sum_qs(c)
    end do
    prior_const = nw * d * (log(gamma) - 0.5d0 * log(2d0)) - log_gamma_p(0.5d0 * nw, d)
    prior = prior - k * prior_const
    r = -n * d * 0.5d0 * log(2 * pi) + slse - n * log_sum_exp(alphas) + prior
  end function
end module gmm_objective_mod

module gmm_problem
  use gmm_objective_mod
  implicit none
  real(8), allocatable :: alphas(:), means(:, :), icf(:, :), x(:, :)
  real(8), allocatable :: dalphas(:), dmeans(:, :), dicf(:, :)
  real(8) :: gamma
  integer :: m
  real(8), volatile :: sink
contains
  subroutine run_primal()
    sink = gmm_objective(alphas, means, icf, x, gamma, m)
  end subroutine

  subroutine run_grad()
    use adcc_ad
    dalphas = 0
    dmeans = 0
    dicf = 0
    call autodiff(gmm_objective, enzyme_dup, alphas, dalphas, enzyme_dup, means, dmeans, enzyme_dup, icf, dicf, &
                  enzyme_const, x, enzyme_const, gamma, enzyme_const, m)
  end subroutine

  ! f at the parameters moved by t along (va, vm, vi)
  function loss_along(t, va, vm, vi) result(f)
    real(8), intent(in) :: t, va(:), vm(:, :), vi(:, :)
    real(8) :: f
    f = gmm_objective(alphas + t * va, means + t * vm, icf + t * vi, x, gamma, m)
  end function
end module gmm_problem

program gmm_fortran
  use gmm_problem
  implicit none
  interface
    integer(8) function adcc_tape_peak_bytes() bind(C, name="adcc_tape_peak_bytes")
    end function
  end interface
  character(len=4096) :: arg, path
  logical :: quick
  integer :: i, d, k, n, icf_sz, size_limit, unit
  real(8) :: tp, tg, err, min_total
  character(len=64) :: size_name

  quick = .false.
  path = ""
  size_limit = 0
  i = 1
  do while (i <= command_argument_count())
    call get_command_argument(i, arg)
    if (arg == "--quick") then
      quick = .true.
    else if (arg == "--size") then
      i = i + 1
      call get_command_argument(i, arg)
      read (arg, *) size_limit
    else
      path = arg
    end if
    i = i + 1
  end do
  if (path == "") error stop "gmm_fortran: need an ADBench gmm input file"
  open (newunit=unit, file=path, status="old", action="read")
  read (unit, *) d, k, n
  icf_sz = d * (d + 1) / 2
  allocate (alphas(k), means(d, k), icf(icf_sz, k), x(d, n))
  read (unit, *) alphas, means, icf, x, gamma, m
  close (unit)
  if (size_limit > 0 .and. size_limit < n) x = x(:, :size_limit)
  if (quick .and. size(x, 2) > 20) x = x(:, :20)
  allocate (dalphas, mold=alphas)
  allocate (dmeans, mold=means)
  allocate (dicf, mold=icf)

  call run_grad()
  err = check_gradient(4, 1d-3)
  min_total = merge(0.005d0, 0.5d0, quick)
  tp = seconds_per_call(run_primal, min_total)
  tg = seconds_per_call(run_grad, min_total)
  write (size_name, '(a, i0, a, i0, a, i0)') "d", d, "_K", k, "_n", size(x, 2)
  write (*, '(a, a, a, es13.6, a, es13.6, a, es13.6, a, es10.3, a, i0, a)') &
    '{"name": "gmm_fortran", "size": "', trim(size_name), '", "primal_s": ', tp, ', "grad_s": ', tg, &
    ', "ratio": ', tg / tp, ', "max_rel_err": ', err, ', "tape_bytes": ', adcc_tape_peak_bytes(), '}'
  if (.not. (err <= 1d-5)) then
    write (0, *) "gmm_fortran: gradient check failed, max_rel_err = ", err
    stop 1, quiet=.true.
  end if
contains
  ! Minimum seconds per call over >= 5 samples and >= min_total seconds of sampling (bench.h).
  function seconds_per_call(fn, min_total) result(best)
    interface
      subroutine fn()
      end subroutine
    end interface
    real(8), intent(in) :: min_total
    real(8) :: best, one, spent, dt
    integer(8) :: t0, t1, rate, reps, r
    integer :: s
    call system_clock(t0, rate)
    call fn()
    call system_clock(t1)
    one = real(t1 - t0, 8) / rate
    reps = 1
    if (one < 2d-3) reps = int(2d-3 / max(one, 1d-9), 8) + 1
    if (quick) reps = min(reps, 1000_8)
    best = huge(1d0)
    spent = 0
    s = 0
    do while (s < 5 .or. spent < min_total)
      call system_clock(t0)
      do r = 1, reps
        call fn()
      end do
      call system_clock(t1)
      dt = real(t1 - t0, 8) / rate
      spent = spent + dt
      best = min(best, dt / reps)
      s = s + 1
    end do
  end function

  ! max over random unit directions of |grad.v - fd(v)| / max(|fd|, |grad.v|, 1e-8 |grad|),
  ! with 4th-order central differences of step h (bench.h's oracle)
  function check_gradient(dirs, h) result(worst)
    integer, intent(in) :: dirs
    real(8), intent(in) :: h
    real(8) :: worst, norm, gv, fd, gnorm, e
    real(8) :: va(size(alphas)), vm(size(means, 1), size(means, 2)), vi(size(icf, 1), size(icf, 2))
    integer :: s
    call random_seed(put=[(12345 + s, s = 1, 64)])
    gnorm = sqrt(sum(dalphas ** 2) + sum(dmeans ** 2) + sum(dicf ** 2))
    worst = 0
    do s = 1, dirs
      call random_number(va)
      call random_number(vm)
      call random_number(vi)
      va = 2 * va - 1
      vm = 2 * vm - 1
      vi = 2 * vi - 1
      norm = sqrt(sum(va ** 2) + sum(vm ** 2) + sum(vi ** 2))
      va = va / norm
      vm = vm / norm
      vi = vi / norm
      gv = sum(dalphas * va) + sum(dmeans * vm) + sum(dicf * vi)
      fd = (-loss_along(2 * h, va, vm, vi) + 8 * loss_along(h, va, vm, vi) - 8 * loss_along(-h, va, vm, vi) &
            + loss_along(-2 * h, va, vm, vi)) / (12 * h)
      e = abs(gv - fd) / max(abs(fd), abs(gv), 1d-8 * gnorm)
      if (.not. (e <= worst)) worst = e
    end do
  end function
end program gmm_fortran
