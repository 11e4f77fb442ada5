/**
 * The partition assigner of Twinbridge consumer groups. Every consumer of a connection (all clients, all
 * sources, all consumers of a source) is a member of one group (`groupId`, default the connection ID,
 * ditto: §11.4 scaling), but members subscribe to different topics (one consumer per source address).
 * kafkajs' round-robin assigner ignores the members' subscriptions and would hand a member partitions of
 * topics it does not consume (which kafkajs then drops, leaving them unconsumed). This one deals the
 * partitions of each topic round-robin among the members subscribed to that topic only.
 */
import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';

export const ASSIGNER_NAME = 'TwinbridgeRoundRobin';

export const subscriptionAwareAssigner: PartitionAssigner = ({ cluster }) => ({
  name: ASSIGNER_NAME,
  version: 0,
  async assign({ members }) {
    const subscribers = new Map<string, string[]>();
    for (const m of [...members].sort((a, b) => a.memberId.localeCompare(b.memberId))) {
      const metadata = AssignerProtocol.MemberMetadata.decode(m.memberMetadata);
      for (const topic of metadata?.topics ?? []) {
        const list = subscribers.get(topic) ?? [];
        list.push(m.memberId);
        subscribers.set(topic, list);
      }
    }
    // The leader's metadata only covers its own topics; fetch the others'.
    await cluster.addMultipleTargetTopics([...subscribers.keys()]);
    const assignment = new Map<string, Record<string, number[]>>(members.map((m) => [m.memberId, {}]));
    let turn = 0;
    for (const [topic, ids] of [...subscribers].sort(([a], [b]) => a.localeCompare(b))) {
      const partitions = cluster
        .findTopicPartitionMetadata(topic)
        .map((p) => p.partitionId)
        .sort((a, b) => a - b);
      for (const partition of partitions) {
        // Continue the turn across topics so that single-partition topics do not all land on one member.
        const owner = assignment.get(ids[turn++ % ids.length])!;
        (owner[topic] ??= []).push(partition);
      }
    }
    return [...assignment].map(([memberId, a]) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({
        version: 0,
        assignment: a,
        userData: Buffer.alloc(0),
      }),
    }));
  },
  protocol({ topics }) {
    return {
      name: ASSIGNER_NAME,
      metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) }),
    };
  },
});
