// Boost.Odeint: integrate_const with fixed-step steppers, and an adaptive integration.
// ir-corpus-levels: -O0 -O2
#include <array>
#include <boost/numeric/odeint.hpp>
#include <vector>

namespace ode = boost::numeric::odeint;
typedef std::array<double, 2> state_type;

struct oscillator {
  double k;
  void operator()(const state_type &x, state_type &dx, double) const { dx[0] = x[1]; dx[1] = -k * x[0] - 0.1 * x[1]; }
};

double euler(double k) {
  state_type x = {{1.0, 0.0}};
  ode::euler<state_type> stepper;
  ode::integrate_const(stepper, oscillator{k}, x, 0.0, 10.0, 0.01);
  return x[0];
}

double rk4(double k) {
  state_type x = {{1.0, 0.0}};
  ode::runge_kutta4<state_type> stepper;
  ode::integrate_const(stepper, oscillator{k}, x, 0.0, 5.0, 0.01);
  return x[0] + x[1];
}

double adaptive(double k) {
  std::vector<double> x = {1.0, 0.0};
  auto rhs = [k](const std::vector<double> &y, std::vector<double> &dy, double) { dy[0] = y[1]; dy[1] = -k * y[0]; };
  ode::integrate_adaptive(ode::make_controlled<ode::runge_kutta_dopri5<std::vector<double>>>(1e-8, 1e-8), rhs, x, 0.0, 2.0, 0.1);
  return x[0];
}

int main() { return (int)(euler(2.0) + rk4(2.0) + adaptive(2.0)); }
