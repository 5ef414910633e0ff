/* The registry of message processors (see milter-processor.h). */

#include "milter-processor.h"

const struct mwm_processor *const mwm_processors[] = {
	/* S/MIME signing registers here. */
	NULL
};

unsigned int mwm_processor_count(void)
{
	unsigned int n = 0;

	while (mwm_processors[n] != NULL)
		n++;
	return n;
}

unsigned long mwm_processor_actions(void)
{
	unsigned long actions = 0;
	unsigned int i;

	for (i = 0; mwm_processors[i] != NULL; i++)
		actions |= mwm_processors[i]->actions;
	return actions;
}
