/* Monotonic and wall-clock time helpers. */
#ifndef PA_TIME_H
#define PA_TIME_H

#include <stdint.h>

/* Milliseconds on CLOCK_MONOTONIC. */
uint64_t	pa_now_ms(void);
/* Seconds since the epoch (wall clock). */
int64_t		pa_wall_s(void);

#endif
