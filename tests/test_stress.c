#include "check.h"
TEST(x){}
RUN_TESTS(T(x))
