// The one protocol every recorded call goes through (ctx.task, ctx.tool, ctx.ui.*, and the kinds added
// later). A kind describes itself as a NodeCall; `callNode` does the rest, the same way for all of them:
// identity and node id, parents from the frontier, the record of an earlier process, fingerprint and
// consumed-result comparison, replay or run, the stop and budget checks, journaling start and end, and
// settling the node into the frontier whatever happens.

import { StageError } from "../../authoring/stage-error.js";
import type { NodeFinishedEvent, NodeKind, NodeStartedEvent } from "../../store/events.js";
import type { NodeState } from "../../store/run-fold.js";
import { checkFrameBudgets } from "../child-budget.js";
import type { Scope } from "../scope.js";

/** Who the node is: known before anything about the call is checked. */
export interface NodeRef {
	id: string;
	key: string;
	kind: NodeKind;
	name: string;
	parents: string[];
	/** What an earlier process recorded under the same identity, when it was a call of the same kind (as it was
	 * before this call journaled anything). */
	recorded?: NodeState;
}

/** Kind-specific fields of the node's start event (the protocol adds the common ones). */
export type StartFields<K extends NodeKind> = Omit<
	Extract<NodeStartedEvent, { kind: K }>,
	"type" | "at" | "stageId" | "key" | "name" | "parents" | "fingerprint" | "consumed" | "rerun" | "kind"
>;

/** How a call that ran ended: its node_finished event, less what the protocol adds. */
export type NodeOutcome = Omit<NodeFinishedEvent, "type" | "at" | "stageId">;

export type CallPlan<P> =
	/** Return the recorded result: no work, nothing spent. */
	| { type: "replay"; result: unknown }
	/** Run it (again). */
	| {
			type: "run";
			/** Why a recorded node runs again, for the report. */
			rerun?: string;
			/** Its start is in the journal already (a question still pending from before): journal no second start. */
			alreadyStarted?: boolean;
			/** Spends nothing (a stage whose transcript already holds its answer): no budget check. */
			free?: boolean;
			detail: P;
	  }
	/** The call cannot go ahead (for example an interrupted side effect whose policy is to fail). */
	| { type: "fail"; error: string };

export interface Prepared {
	fingerprint: string;
	consumed?: Record<string, string>;
}

export interface NodeCall<K extends NodeKind, Ready extends Prepared, P> {
	kind: K;
	/** The name the workflow gave the call (a readable placeholder when it gave none). */
	name: string;
	/** Model stages wait for one of the run-wide slots before they start. */
	usesSlot?: boolean;
	/** What its node id is made from, when not its name (a multi-turn stage's prompts: `impl/1`, `impl/2`). */
	idName?: string;
	/** A new node of this call counts against the budget's `maxStages` (a model stage, a stage session). */
	countsAsStage?: boolean;
	/** Its work has effects outside the run (ctx.tool): its start reaches the disk before the work begins, so
	 * even a power loss cannot hide that it may have happened. */
	sideEffects?: boolean;
	/** Checks the call and computes what decides its result; a problem fails it before it starts. */
	prepare(node: NodeRef): { ok: true; value: Ready } | { ok: false; error: string; start: StartFields<K> };
	/** How to go ahead given the record (absent: never run before); `changed` says why the record is stale. */
	plan(node: NodeRef, ready: Ready, changed: string | undefined): CallPlan<P> | Promise<CallPlan<P>>;
	/** The kind-specific fields of the start event. */
	start(node: NodeRef, ready: Ready, detail: P): StartFields<K>;
	/** Does the work, once the node is journaled as started. */
	run(node: NodeRef, ready: Ready, detail: P, signal: AbortSignal): Promise<NodeOutcome>;
	/** What the workflow gets for a result (recorded or new); throws to fail the call. */
	deliver(node: NodeRef, result: unknown, outcome?: NodeOutcome): unknown;
}

export async function callNode<K extends NodeKind, Ready extends Prepared, P>(
	scope: Scope,
	call: NodeCall<K, Ready, P>,
): Promise<unknown> {
	const { services } = scope;
	const key = scope.calls.next(call.kind, call.name);
	const previous = services.fold.byKey(key);
	// A copy: the fold moves the live node on as this call journals its start, but the record is what came before.
	const recorded =
		previous?.kind === call.kind
			? { ...previous, sessionFiles: [...previous.sessionFiles], steers: [...previous.steers] }
			: undefined;
	const id = recorded?.id ?? services.ids.next(call.idName ?? call.name);
	const node: NodeRef = { id, key, kind: call.kind, name: call.name, parents: scope.frontier.take(), recorded };
	const fail = (reason: string, stopped = false) => new StageError(services.workflow, id, reason, stopped);
	// A node joins the graph (and the next call's parents) once the journal knows it.
	let inGraph = false;
	try {
		if (scope.signal.aborted) throw fail("not started: the run was stopped", true);
		const prepared = call.prepare(node);
		if (!prepared.ok) {
			inGraph = true;
			journalStart(scope, node, { fingerprint: "" }, prepared.start);
			journalFinish(scope, node, { status: "failed", error: prepared.error, durationMs: 0 });
			throw fail(prepared.error);
		}
		const ready = prepared.value;
		const plan = await call.plan(node, ready, recorded ? staleness(recorded, ready) : undefined);
		if (plan.type === "fail") {
			inGraph = true;
			journalStart(scope, node, ready, call.start(node, ready, undefined as P));
			journalFinish(scope, node, { status: "failed", error: plan.error, durationMs: 0 });
			throw fail(plan.error);
		}
		if (plan.type === "replay") {
			inGraph = true;
			services.record({ type: "node_replayed", at: now(), stageId: id });
			return call.deliver(node, plan.result);
		}
		const go = async () => {
			if (scope.signal.aborted) throw fail("not started: the run was stopped", true);
			if (!plan.free) {
				const newStage = call.countsAsStage === true && !recorded;
				services.budget.checkStart(id, newStage);
				checkFrameBudgets(scope, id, newStage);
			}
			inGraph = true;
			if (!plan.alreadyStarted) {
				journalStart(scope, node, ready, call.start(node, ready, plan.detail), plan.rerun);
			}
			if (call.sideEffects) services.sync();
			const outcome = await call.run(node, ready, plan.detail, scope.signal);
			journalFinish(scope, node, outcome);
			return call.deliver(node, outcome.result, outcome);
		};
		return await (call.usesSlot ? services.limiter(go) : go());
	} finally {
		if (inGraph) scope.frontier.settle(id);
	}
}

/** Why a recorded node no longer fits the call: its definition or what it consumed changed (or undefined). */
function staleness(recorded: NodeState, ready: Prepared): string | undefined {
	if (recorded.fingerprint !== ready.fingerprint) {
		return `its definition changed (fingerprint ${recorded.fingerprint || "none"} -> ${ready.fingerprint})`;
	}
	// Nodes of version 1 journals recorded no consumption: they are judged by their definition, as then.
	if (!recorded.consumed) return undefined;
	const now = ready.consumed ?? {};
	const changed = [...new Set([...Object.keys(recorded.consumed), ...Object.keys(now)])].filter(
		(source) => recorded.consumed?.[source] !== now[source],
	);
	if (changed.length === 0) return undefined;
	return `what it consumed changed: ${changed.map((source) => `"${source}"`).join(", ")}`;
}

/** Journals a node's start; a kind that starts again within one call (a stage's next model) uses it too. */
export function journalStart<K extends NodeKind>(
	scope: Scope,
	node: NodeRef,
	ready: Prepared,
	fields: StartFields<K>,
	rerun?: string,
): void {
	scope.services.record(
		{
			type: "node_started",
			at: now(),
			stageId: node.id,
			key: node.key,
			kind: node.kind,
			name: node.name,
			parents: node.parents,
			...(scope.within ? { within: scope.within } : {}),
			...(scope.group ? { group: scope.group } : {}),
			fingerprint: ready.fingerprint,
			...(ready.consumed && Object.keys(ready.consumed).length > 0 ? { consumed: ready.consumed } : {}),
			...(rerun ? { rerun } : {}),
			...fields,
		} as unknown as NodeStartedEvent,
		true,
	);
}

function journalFinish(scope: Scope, node: NodeRef, outcome: NodeOutcome): void {
	scope.services.record({ type: "node_finished", at: now(), stageId: node.id, ...outcome }, true);
	scope.services.budget.settle(node.id);
}

export function now(): string {
	return new Date().toISOString();
}
