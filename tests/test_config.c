#include "pd_test.h"
int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  return pd_test_end("test_config");
}
