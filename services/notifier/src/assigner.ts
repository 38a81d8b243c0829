import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';

/**
 * Gives every partition of a topic to the same member, topics spread round-robin: a
 * tenant's `dlq.<tenant>` is read by one notifier, so one member sees all of a group's dead
 * letters and sends the one notification of a window (two members each holding some
 * partitions would each send one with the same idempotency key and their own count, and
 * the receiver would keep only the first).
 */
export const WholeTopicAssigner: PartitionAssigner = ({ cluster }) => ({
  name: 'TributaryWholeTopic',
  version: 0,
  async assign({ members, topics }) {
    const memberIds = members.map((m) => m.memberId).sort();
    const assignment = new Map<string, Record<string, number[]>>(memberIds.map((id) => [id, {}]));
    [...topics].sort().forEach((topic, i) => {
      const member = memberIds[i % memberIds.length];
      const partitions = cluster.findTopicPartitionMetadata(topic).map((p) => p.partitionId).sort((a, b) => a - b);
      if (member !== undefined && partitions.length > 0) assignment.get(member)![topic] = partitions;
    });
    return [...assignment].map(([memberId, topicPartitions]) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 0, assignment: topicPartitions, userData: Buffer.alloc(0) }),
    }));
  },
  protocol({ topics }) {
    return { name: 'TributaryWholeTopic', metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) }) };
  },
});
