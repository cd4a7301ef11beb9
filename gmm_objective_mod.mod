!mod$ v1 sum:cca3dd258f64b797
module gmm_objective_mod
real(8),parameter,private::pi=3.141592653589793115997963468544185161590576171875_8
private::log_sum_exp
private::log_gamma_p
contains
pure function log_sum_exp(v) result(r)
real(8),intent(in)::v(:)
real(8)::r
end
pure function log_gamma_p(a,p) result(r)
real(8),intent(in)::a
integer(4),intent(in)::p
real(8)::r
end
function gmm_objective(alphas,means,icf,x,gamma,m) result(r)
real(8),contiguous,intent(in)::alphas(:)
real(8),contiguous,intent(in)::means(:,:)
real(8),contiguous,intent(in)::icf(:,:)
real(8),contiguous,intent(in)::x(:,:)
real(8),intent(in)::gamma
integer(4),intent(in)::m
real(8)::r
end
end
