#include <cstdio>
#include <numeric>
#include <vector>

#include "stats.h"

int main() {
  std::vector<double> xs(100);
  std::iota(xs.begin(), xs.end(), 1.0);
  for (double &x : xs) x = x * 0.5 + 1.0 / x;
  const double coef[] = {1.0, -2.0, 0.5};
  std::printf("mean %.12g\nvariance %.12g\npoly %.12g\n", stats_mean(xs.data(), (int)xs.size()),
              stats_variance(xs.data(), (int)xs.size()), stats_poly(coef, 2, 3.0));
  return 0;
}
