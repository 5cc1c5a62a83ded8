/**
 * What the service reads from the configuration in force (dissertation
 * §4.1): where each server is reached, for redirects and for status
 * replies, and the context of the configuration a change leads to. Each
 * member's client endpoint is the one its configuration carries, else the
 * config file's (docs/architecture.md §9).
 */
import type { ClusterConfig } from "../config/cluster-config.ts";
import { encodeMemberEndpoints, memberEndpoints } from "../config/member-endpoints.ts";
import type { MemberInfo } from "../protocol/reply-fields.ts";
import type { Membership, NodeId } from "../raft/index.ts";

export class MemberView {
  readonly membership: Membership;
  /** Every server this one knows an endpoint of: the config file's and the members'. */
  readonly endpoints: ReadonlyMap<NodeId, string>;
  /** The config file's servers and the members: whom a transfer may name. */
  readonly serverIds: ReadonlySet<NodeId>;

  constructor(config: ClusterConfig, membership: Membership) {
    this.membership = membership;
    this.endpoints = memberEndpoints(config, membership.context);
    this.serverIds = new Set([...config.servers.map((server) => server.id), ...membership.voters, ...membership.learners]);
  }

  /** The members in id order, for a reply (docs/protocol.md §5). */
  members(): MemberInfo[] {
    const { voters, learners } = this.membership;
    return [...voters, ...learners]
      .sort((a, b) => a - b)
      .map((id) => ({ id, client: this.endpoints.get(id) ?? null, voter: voters.includes(id) }));
  }

  /** The server whose endpoint `endpoint` is, among the members, if any. */
  memberAt(endpoint: string): NodeId | undefined {
    return this.members().find((member) => member.client === endpoint)?.id;
  }

  /**
   * The context of the configuration after `target` joins at `client`, or
   * leaves (client undefined): the members' endpoints, so that a server
   * that knows none of them from its config file reaches them all.
   */
  contextAfter(target: NodeId, client: string | undefined): string {
    const endpoints = new Map(this.members().flatMap(({ id, client: endpoint }) => (endpoint === null || id === target ? [] : [[id, endpoint] as const])));
    if (client !== undefined) endpoints.set(target, client);
    return encodeMemberEndpoints(endpoints);
  }
}
