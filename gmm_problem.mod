!mod$ v1 sum:f19027e2eee1d40d
!need$ cca3dd258f64b797 n gmm_objective_mod
!need$ fe4efcc6eb68d3fb n adcc_ad
module gmm_problem
use gmm_objective_mod,only:gmm_objective
real(8),allocatable::alphas(:)
real(8),allocatable::means(:,:)
real(8),allocatable::icf(:,:)
real(8),allocatable::x(:,:)
real(8),allocatable::dalphas(:)
real(8),allocatable::dmeans(:,:)
real(8),allocatable::dicf(:,:)
real(8)::gamma
integer(4)::m
real(8),volatile::sink
contains
subroutine run_primal()
end
subroutine run_grad()
end
function loss_along(t,va,vm,vi) result(f)
real(8),intent(in)::t
real(8),intent(in)::va(:)
real(8),intent(in)::vm(:,:)
real(8),intent(in)::vi(:,:)
real(8)::f
end
end
