/**
 * Configuration changes (etcd `confchange/confchange.go`, Raft thesis §4.3). A `Changer` turns the
 * tracker's current configuration plus a list of single changes into a NEW configuration and
 * Progress map; the tracker itself is never touched, so a refused change loses nothing and the
 * caller switches to the result only on success.
 *
 * Three operations:
 * - `simple`: at most one voter changes (added or removed); no joint state needed, since any
 *   two majorities of configurations differing by one voter intersect.
 * - `enterJoint`: the outgoing half becomes a copy of the current voters and the changes apply
 *   to the incoming half; decisions need both majorities until `leaveJoint`.
 * - `leaveJoint`: drop the outgoing half, promote staged learners (`learnersNext`), and forget
 *   nodes that are in neither half.
 */
import { RaftCodes, RaftError } from '../errors.js';
import type { ConfChangeSingle } from '../types.js';
import { ConfChangeType } from '../types.js';
import { Inflights } from '../tracker/inflights.js';
import { Progress } from '../tracker/progress.js';
import type { ProgressMap } from '../tracker/progress-map.js';
import { EMPTY_IDS, hasId, symmetricDifference, withId, withoutId } from '../tracker/sorted-ids.js';
import type { ProgressTracker, TrackerConfig } from '../tracker/tracker.js';
import { isJoint } from '../tracker/tracker.js';

/** A configuration and Progress map produced by a change, ready to be switched to. */
export interface ChangeResult {
  config: TrackerConfig;
  progress: ProgressMap;
}

function fail(reason: string): never {
  throw new RaftError(RaftCodes.CONF_CHANGE_ERROR, `conf change refused: ${reason}`);
}

export class Changer {
  constructor(
    /** The current configuration and Progress (read, never modified). */
    private readonly tracker: Pick<ProgressTracker, 'config' | 'progress' | 'maxInflight' | 'maxInflightBytes'>,
    /** The raft log's last index: where new members' Progress starts probing. */
    private readonly lastIndex: number,
  ) {}

  /** Enters a joint configuration; throws RaftError(CONF_CHANGE_ERROR) when not possible. */
  enterJoint(autoLeave: boolean, ccs: readonly ConfChangeSingle[]): ChangeResult {
    const { config, progress } = this.checkAndCopy();
    if (isJoint(config)) fail('config is already joint');
    if (config.voters.incoming.length === 0) {
      // Adding to an empty config is allowed (bootstrap), but not as a joint change.
      fail("can't make a zero-voter config joint");
    }
    config.voters = { incoming: config.voters.incoming, outgoing: config.voters.incoming };
    this.apply(config, progress, ccs);
    config.autoLeave = autoLeave;
    return checkAndReturn(config, progress);
  }

  /** Leaves the joint configuration; throws when not joint. */
  leaveJoint(): ChangeResult {
    const { config, progress } = this.checkAndCopy();
    if (!isJoint(config)) fail("can't leave a non-joint config");
    for (const id of config.learnersNext) {
      config.learners = withId(config.learners, id);
      progress.get(id)!.isLearner = true;
    }
    config.learnersNext = EMPTY_IDS;
    for (const id of config.voters.outgoing) {
      if (!hasId(config.voters.incoming, id) && !hasId(config.learners, id)) progress.delete(id);
    }
    config.voters = { incoming: config.voters.incoming, outgoing: EMPTY_IDS };
    config.autoLeave = false;
    return checkAndReturn(config, progress);
  }

  /** Applies changes that alter at most one voter, outside a joint configuration. */
  simple(ccs: readonly ConfChangeSingle[]): ChangeResult {
    const { config, progress } = this.checkAndCopy();
    if (isJoint(config)) fail("can't apply simple config change in joint config");
    this.apply(config, progress, ccs);
    if (symmetricDifference(this.tracker.config.voters.incoming, config.voters.incoming) > 1) {
      fail('more than one voter changed without entering joint config');
    }
    return checkAndReturn(config, progress);
  }

  private apply(cfg: TrackerConfig, prs: ProgressMap, ccs: readonly ConfChangeSingle[]): void {
    for (const cc of ccs) {
      // A zero node id marks a change the application decided not to make; skip it.
      if (cc.nodeId === 0) continue;
      if (!Number.isSafeInteger(cc.nodeId) || cc.nodeId < 0) fail(`invalid node id ${cc.nodeId}`);
      switch (cc.changeType) {
        case ConfChangeType.AddNode:
          this.makeVoter(cfg, prs, cc.nodeId);
          break;
        case ConfChangeType.AddLearnerNode:
          this.makeLearner(cfg, prs, cc.nodeId);
          break;
        case ConfChangeType.RemoveNode:
          this.remove(cfg, prs, cc.nodeId);
          break;
        default:
          fail(`unexpected conf change type ${String(cc.changeType)}`);
      }
    }
    if (cfg.voters.incoming.length === 0) fail('removed all voters');
  }

  private makeVoter(cfg: TrackerConfig, prs: ProgressMap, id: number): void {
    const pr = prs.get(id);
    if (pr === undefined) {
      this.initProgress(cfg, prs, id, false);
      return;
    }
    pr.isLearner = false;
    cfg.learners = withoutId(cfg.learners, id);
    cfg.learnersNext = withoutId(cfg.learnersNext, id);
    cfg.voters = { incoming: withId(cfg.voters.incoming, id), outgoing: cfg.voters.outgoing };
  }

  private makeLearner(cfg: TrackerConfig, prs: ProgressMap, id: number): void {
    const pr = prs.get(id);
    if (pr === undefined) {
      this.initProgress(cfg, prs, id, true);
      return;
    }
    if (pr.isLearner) return;
    // Remove the voter from the incoming half, but keep its Progress.
    this.remove(cfg, prs, id);
    prs.set(id, pr);
    // A voter of the outgoing half cannot become a learner before the joint config is left:
    // stage it in learnersNext. Otherwise it becomes a learner right away.
    if (hasId(cfg.voters.outgoing, id)) {
      cfg.learnersNext = withId(cfg.learnersNext, id);
    } else {
      pr.isLearner = true;
      cfg.learners = withId(cfg.learners, id);
    }
  }

  private remove(cfg: TrackerConfig, prs: ProgressMap, id: number): void {
    if (!prs.has(id)) return;
    cfg.voters = { incoming: withoutId(cfg.voters.incoming, id), outgoing: cfg.voters.outgoing };
    cfg.learners = withoutId(cfg.learners, id);
    cfg.learnersNext = withoutId(cfg.learnersNext, id);
    // A voter of the outgoing half keeps its Progress until the joint config is left.
    if (!hasId(cfg.voters.outgoing, id)) prs.delete(id);
  }

  private initProgress(cfg: TrackerConfig, prs: ProgressMap, id: number, isLearner: boolean): void {
    if (isLearner) cfg.learners = withId(cfg.learners, id);
    else cfg.voters = { incoming: withId(cfg.voters.incoming, id), outgoing: cfg.voters.outgoing };
    // Probe from the last index: the new member likely has an empty log and will reject,
    // hinting where to start (or needing a snapshot). A new member counts as recently active so
    // CheckQuorum does not step the leader down before it had a chance to answer.
    const pr = new Progress(
      0,
      Math.max(this.lastIndex, 1),
      new Inflights(this.tracker.maxInflight, this.tracker.maxInflightBytes),
      isLearner,
    );
    pr.recentActive = true;
    prs.set(id, pr);
  }

  private checkAndCopy(): ChangeResult {
    const c = this.tracker.config;
    const config: TrackerConfig = {
      voters: { incoming: c.voters.incoming, outgoing: c.voters.outgoing },
      autoLeave: c.autoLeave,
      learners: c.learners,
      learnersNext: c.learnersNext,
    };
    // Id lists are replaced, never mutated (withId/withoutId copy), so sharing them is safe.
    const progress = this.tracker.progress.clone();
    checkInvariants(config, progress);
    return { config, progress };
  }
}

function checkAndReturn(config: TrackerConfig, progress: ProgressMap): ChangeResult {
  checkInvariants(config, progress);
  return { config, progress };
}

/**
 * The structural invariants of a configuration. The empty configuration is allowed (bootstrap
 * and tests build a first configuration from it).
 */
export function checkInvariants(cfg: TrackerConfig, prs: ProgressMap): void {
  for (const ids of [cfg.voters.incoming, cfg.voters.outgoing, cfg.learners, cfg.learnersNext]) {
    for (const id of ids) if (!prs.has(id)) fail(`no progress for ${id}`);
  }
  for (const id of cfg.learnersNext) {
    if (!hasId(cfg.voters.outgoing, id)) fail(`${id} is in learners_next, but not in the outgoing voters`);
    if (prs.get(id)!.isLearner) fail(`${id} is in learners_next, but is already marked as learner`);
  }
  for (const id of cfg.learners) {
    if (hasId(cfg.voters.outgoing, id)) fail(`${id} is in learners and in the outgoing voters`);
    if (hasId(cfg.voters.incoming, id)) fail(`${id} is in learners and in the incoming voters`);
    if (!prs.get(id)!.isLearner) fail(`${id} is in learners, but is not marked as learner`);
  }
  if (!isJoint(cfg)) {
    if (cfg.learnersNext.length > 0) fail('learners_next must be empty when not joint');
    if (cfg.autoLeave) fail('auto_leave must be false when not joint');
  }
}
