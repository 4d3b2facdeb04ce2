// Replay identity of ctx calls: scope path + kind + name + occurrence. The first `review` task in a
// scope is `review#1`, the next `review#2`; a parallel group's branches get their own scopes
// (`parallel#1.2/` is branch 2 of the scope's first group), so concurrent branches never race for
// occurrence numbers. A child workflow's calls live under its node's identity (`workflow:fix#1/impl#1`).
// Identities depend on control flow only, never on source lines or timing.

import type { NodeKind } from "../store/events.js";

export class CallScope {
	private readonly counters = new Map<string, number>();

	constructor(readonly path = "") {}

	/** Identity of the next call of this kind and name in this scope. */
	next(kind: NodeKind, name: string): string {
		const prefix = kind === "task" ? "" : `${kind}:`;
		return `${this.path}${prefix}${name}#${this.bump(`${kind}:${name}`)}`;
	}

	/** The scope of the calls made inside a node (a child workflow's, a multi-turn stage's prompts). */
	static within(key: string): CallScope {
		return new CallScope(`${key}/`);
	}

	/** Scopes for the branches of the next parallel group in this scope. */
	branches(count: number): CallScope[] {
		const group = `${this.path}parallel#${this.bump("group")}`;
		return Array.from({ length: count }, (_, index) => new CallScope(`${group}.${index + 1}/`));
	}

	private bump(counter: string): number {
		const occurrence = (this.counters.get(counter) ?? 0) + 1;
		this.counters.set(counter, occurrence);
		return occurrence;
	}
}
