/**
 * Helpers over ConfChange / ConfChangeV2 values (etcd `raftpb/confchange.go`): the V1 → V2
 * conversion, the joint-consensus predicates, and the mapping between conf-change entries and
 * values.
 */
import { decodeConfChange, decodeConfChangeV2, encodeConfChange, encodeConfChangeV2 } from './codec.js';
import { RaftCodes, RaftError } from './errors.js';
import type { ConfChange, ConfChangeSingle, ConfChangeV2, Entry } from './types.js';
import { ConfChangeTransition, ConfChangeType, EntryType } from './types.js';

/** Either form of a configuration change. */
export type AnyConfChange = ConfChange | ConfChangeV2;

/** True for the V2 form. */
export function isConfChangeV2(cc: AnyConfChange): cc is ConfChangeV2 {
  return (cc as ConfChangeV2).changes !== undefined;
}

/** The V2 form of a change: a V1 change becomes one simple single change. */
export function asV2(cc: AnyConfChange): ConfChangeV2 {
  if (isConfChangeV2(cc)) return cc;
  return {
    transition: ConfChangeTransition.Auto,
    changes: [{ changeType: cc.changeType, nodeId: cc.nodeId }],
    context: cc.context,
  };
}

/**
 * Whether the change must use joint consensus, and if so whether raft leaves the joint state on
 * its own (`autoLeave`). A change uses joint consensus if it asks for it (Implicit/Explicit) or
 * changes more than one thing. `undefined` for a simple change or the leave-joint change.
 */
export function enterJoint(cc: ConfChangeV2): { autoLeave: boolean } | undefined {
  if (cc.transition !== ConfChangeTransition.Auto || cc.changes.length > 1) {
    switch (cc.transition) {
      case ConfChangeTransition.Auto:
      case ConfChangeTransition.Implicit:
        return { autoLeave: true };
      case ConfChangeTransition.Explicit:
        return { autoLeave: false };
    }
  }
  return undefined;
}

/** True for the empty ConfChangeV2, which leaves a joint configuration. */
export function leaveJoint(cc: ConfChangeV2): boolean {
  return cc.transition === ConfChangeTransition.Auto && cc.changes.length === 0;
}

/** Encodes a change into the entry type and bytes it travels as. */
export function confChangeToEntryData(cc: AnyConfChange): { entryType: EntryType; data: Uint8Array } {
  if (isConfChangeV2(cc)) return { entryType: EntryType.EntryConfChangeV2, data: encodeConfChangeV2(cc) };
  return { entryType: EntryType.EntryConfChange, data: encodeConfChange(cc) };
}

/** Decodes a conf-change entry; throws RaftError(CODEC_ERROR) for bad bytes or a normal entry. */
export function confChangeFromEntry(e: Entry): AnyConfChange {
  if (e.entryType === EntryType.EntryConfChange) return decodeConfChange(e.data);
  if (e.entryType === EntryType.EntryConfChangeV2) return decodeConfChangeV2(e.data);
  throw new RaftError(RaftCodes.CODEC_ERROR, `entry ${e.index} is not a conf change`);
}

/** Short text for a list of single changes: "v1 l2 r3" (etcd's ConfChangesToString format). */
export function confChangesToString(ccs: readonly ConfChangeSingle[]): string {
  return ccs
    .map((c) => {
      switch (c.changeType) {
        case ConfChangeType.AddNode:
          return `v${c.nodeId}`;
        case ConfChangeType.AddLearnerNode:
          return `l${c.nodeId}`;
        case ConfChangeType.RemoveNode:
          return `r${c.nodeId}`;
        default:
          return `?${c.nodeId}`;
      }
    })
    .join(' ');
}

/** Parses "v1 l2 r3 u4" (u = update, an alias of AddNode) into single changes. */
export function confChangesFromString(s: string): ConfChangeSingle[] {
  const out: ConfChangeSingle[] = [];
  for (const tok of s.trim().split(/\s+/)) {
    if (tok === '') continue;
    const id = Number(tok.slice(1));
    if (!Number.isSafeInteger(id) || id <= 0) {
      throw new RaftError(RaftCodes.CONF_CHANGE_ERROR, `bad conf change token "${tok}"`);
    }
    switch (tok[0]) {
      case 'v':
      case 'u':
        out.push({ changeType: ConfChangeType.AddNode, nodeId: id });
        break;
      case 'l':
        out.push({ changeType: ConfChangeType.AddLearnerNode, nodeId: id });
        break;
      case 'r':
        out.push({ changeType: ConfChangeType.RemoveNode, nodeId: id });
        break;
      default:
        throw new RaftError(RaftCodes.CONF_CHANGE_ERROR, `bad conf change token "${tok}"`);
    }
  }
  return out;
}
