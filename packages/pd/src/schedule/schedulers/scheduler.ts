/** The scheduler interface: one balancing policy run every `schedule-interval` while enabled. */
import type { ScheduleContext } from '../context.js';
import type { Operator } from '../operator.js';

export interface Scheduler {
  /** PD's name for it (`balance-leader-scheduler`, ...). */
  readonly name: string;
  /** One line for `scheduler list`. */
  readonly description: string;
  /** Builds and adds operators for this round; returns them. */
  schedule(ctx: ScheduleContext): Promise<Operator[]>;
}
