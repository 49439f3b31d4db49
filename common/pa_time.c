#include <time.h>

#include "pa_time.h"

uint64_t
pa_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int64_t
pa_wall_s(void)
{
	return (int64_t)time(NULL);
}
