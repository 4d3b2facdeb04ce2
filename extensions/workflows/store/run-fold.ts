// The one fold of a run's journal: events in, the state of the run and of every node out. It is applied one
// event at a time as events are journaled (and to a whole journal when a run is read), and everything else
// reads it: replay decisions, report.json, pending questions, status and the live view.
//
// Usage is cumulative per node and transcript (a continued stage reports its whole transcript; the prompts of a
// multi-turn stage share one, each reporting its own part), so each attempt keeps its latest figure and a node's
// spend is the sum over its attempts; run totals move by the difference. Messages queued for stages that have
// not started are kept here until their stage starts (then they are its steers) or are reported undeliverable.

import type { Usage, WorkflowBudget } from "../authoring/types.js";
import { addUsage, zeroUsage } from "../authoring/usage.js";
import type {
	JournalEvent,
	JournalHeader,
	NodeKind,
	NodeStartedEvent,
	NodeStatus,
	PromptQuestion,
	RunStartedEvent,
	RunStatus,
} from "./events.js";

/** How one attempt of a node ended: one per start (a stage paused and continued has two) and one per model a
 * stage moved on from or skipped. */
export interface NodeAttempt {
	model?: string;
	ok: boolean;
	error?: string;
	kind?: string;
	skipped?: boolean;
	usage?: Usage;
}

/** What a run (or a stage) has spent, in the units of the budget's limits. */
export interface Spend {
	stages: number;
	turns: number;
	toolCalls: number;
	tokens: number;
	costUsd: number;
	durationMs: number;
}

export interface NodeState {
	id: string;
	key: string;
	kind: NodeKind;
	name: string;
	status: NodeStatus;
	parents: string[];
	fingerprint: string;
	/** What the node consumed when it last started (id -> digest); absent for nodes of version 1 journals. */
	consumed?: Record<string, string>;
	/** How each start of the node ended, in order. */
	attempts: NodeAttempt[];
	/** Transcripts of the node's attempts, oldest first (tasks only). */
	sessionFiles: string[];
	/** What the call handed the workflow, when a resume may hand it again (see NodeFinishedEvent). */
	result?: unknown;
	error?: string;
	/** A failure the workflow took as data (not an error of the run). */
	handled?: boolean;
	durationMs?: number;
	/** The last start event, as journaled (model, transcript, args, question, ...). */
	started: NodeStartedEvent;
	/** The result came from the journal of an earlier process in the latest part of the run. */
	replayed: boolean;
	rerun?: string;
	/** Messages steered to the node during its last attempt (queued ones included, once it started). */
	steers: string[];
	usage: Usage;
	/** The node it belongs to (a child workflow's node, the multi-turn stage of a prompt). */
	within?: string;
}

export interface RunState {
	header: JournalHeader;
	status: RunStatus;
	reason?: string;
	started?: RunStartedEvent;
	inputs: Record<string, unknown>;
	outputs?: Record<string, unknown>;
	startedAt: string;
	endedAt?: string;
	/** Errors of the latest part of the run (a resume starts a new part). */
	errors: string[];
	/** Problems that did not stop the run, journaled or met while reading the journal. */
	warnings: string[];
	usage: Usage;
	/** A pause, cancel or stop accepted while the run was running, until the run stops. */
	stopping?: { mode: "pause" | "cancel" | "stop"; reason: string; status?: RunStatus };
	/** The limits in force as last journaled, and the one-run overrides given so far. */
	budget?: WorkflowBudget;
	budgetOverride?: WorkflowBudget;
}

export class RunFold {
	readonly run: RunState;
	private readonly nodesById = new Map<string, NodeState>();
	private readonly nodesByKey = new Map<string, NodeState>();
	/** Latest usage of each transcript (or of the node, for nodes without one). */
	private readonly transcriptUsage = new Map<string, Usage>();
	private stages = 0;
	/** Messages for stages that have not started, by stage id. */
	private readonly queue = new Map<string, string[]>();
	/** Messages reported undeliverable, by stage id. */
	private readonly lost = new Map<string, { messages: string[]; reason: string }>();
	/** Driven time: closed parts of the run, and when the open part began. */
	private drivenMs = 0;
	private openedAt: number | undefined;
	private lastAt: number | undefined;

	constructor(header: JournalHeader, readWarnings: readonly string[] = []) {
		this.run = {
			header,
			status: "running",
			inputs: {},
			startedAt: header.createdAt,
			errors: [],
			warnings: [...readWarnings],
			usage: zeroUsage(),
		};
	}

	static of(contents: {
		header: JournalHeader;
		events: readonly JournalEvent[];
		warnings?: readonly string[];
	}): RunFold {
		const fold = new RunFold(contents.header, contents.warnings);
		for (const event of contents.events) fold.apply(event);
		return fold;
	}

	/** Nodes in the order they first started. */
	nodes(): IterableIterator<NodeState> {
		return this.nodesById.values();
	}

	node(id: string): NodeState | undefined {
		return this.nodesById.get(id);
	}

	/** The node a call identity recorded last, if any. */
	byKey(key: string): NodeState | undefined {
		return this.nodesByKey.get(key);
	}

	/** Every node id the journal used, so new nodes never take one. */
	usedIds(): Iterable<string> {
		return this.nodesById.keys();
	}

	/** Questions journaled and not answered since. */
	pending(): Array<PromptQuestion & { id: string; stage?: string }> {
		const waiting: Array<PromptQuestion & { id: string; stage?: string }> = [];
		for (const node of this.nodesById.values()) {
			if (node.kind !== "prompt" || node.status !== "waiting" || node.started.kind !== "prompt") continue;
			waiting.push({
				id: node.id,
				...node.started.question,
				...(node.started.stage ? { stage: node.started.stage } : {}),
			});
		}
		return waiting;
	}

	/** Messages queued for a stage that has not started yet. */
	queued(stageId: string): readonly string[] {
		return this.queue.get(stageId) ?? [];
	}

	/** Every stage with queued messages. */
	queuedStages(): IterableIterator<[string, string[]]> {
		return this.queue.entries();
	}

	/** Messages that can never reach their stage, and why. */
	undeliverable(): IterableIterator<[string, { messages: string[]; reason: string }]> {
		return this.lost.entries();
	}

	/** Whether a node lies within another one (a child workflow's, or a stage session's), at any depth. */
	isWithin(node: NodeState, ancestor: string): boolean {
		let at = node.within;
		for (let hops = 0; at !== undefined && hops < 100; hops++) {
			if (at === ancestor) return true;
			at = this.nodesById.get(at)?.within;
		}
		return false;
	}

	/** What the nodes within a node (a child workflow) spent, in the units of a budget's limits. */
	spentWithin(ancestor: string): Omit<Spend, "durationMs"> {
		const spend = { stages: 0, turns: 0, toolCalls: 0, tokens: 0, costUsd: 0 };
		for (const node of this.nodesById.values()) {
			if (!this.isWithin(node, ancestor)) continue;
			if (this.countsAsStage(node.kind, node.within)) spend.stages++;
			spend.turns += node.usage.turns;
			spend.toolCalls += node.usage.toolCalls;
			spend.tokens += node.usage.totalTokens;
			spend.costUsd += node.usage.cost;
		}
		return spend;
	}

	/** Model stages the run has started (each node once, however often it ran). */
	stageCount(): number {
		return this.stages;
	}

	/** What the run has spent, in the units of its budget's limits (the open part of its time up to `now`). */
	spent(now: number): Spend {
		const usage = this.run.usage;
		return {
			stages: this.stages,
			turns: usage.turns,
			toolCalls: usage.toolCalls,
			tokens: usage.totalTokens,
			costUsd: usage.cost,
			durationMs: this.activeMs(now),
		};
	}

	/** How long the run has been driven, across processes; the open part counts up to `now`. */
	activeMs(now: number): number {
		return this.drivenMs + (this.openedAt === undefined ? 0 : Math.max(0, now - this.openedAt));
	}

	apply(event: JournalEvent): void {
		const run = this.run;
		const at = Date.parse(event.at);
		const previousAt = this.lastAt;
		if (Number.isFinite(at)) this.lastAt = at;
		switch (event.type) {
			case "run_started":
			case "run_resumed":
				// A part that ended in a crash (no pause or end journaled) counts up to its last event.
				if (this.openedAt !== undefined && previousAt !== undefined)
					this.drivenMs += Math.max(0, previousAt - this.openedAt);
				this.openedAt = at;
				if (event.budget) run.budget = event.budget;
				if (event.budgetOverride) run.budgetOverride = { ...run.budgetOverride, ...event.budgetOverride };
				break;
			case "run_paused":
			case "run_finished":
				if (this.openedAt !== undefined) this.drivenMs += Math.max(0, at - this.openedAt);
				this.openedAt = undefined;
				break;
		}
		switch (event.type) {
			case "run_started":
				run.started = event;
				run.inputs = event.inputs;
				run.startedAt = event.at;
				return;
			case "run_stopping":
				run.stopping = {
					mode: event.mode,
					reason: event.reason,
					...(event.status ? { status: event.status } : {}),
				};
				return;
			case "run_resumed":
				run.stopping = undefined;
				run.status = "running";
				run.errors = [];
				run.reason = undefined;
				run.endedAt = undefined;
				run.outputs = undefined;
				return;
			case "run_paused":
				run.stopping = undefined;
				run.status = "paused";
				run.reason = event.reason;
				return;
			case "run_finished":
				run.stopping = undefined;
				run.status = event.status;
				run.endedAt = event.at;
				if (event.outputs) run.outputs = event.outputs;
				if (event.reason) run.reason = event.reason;
				if (event.error && !run.errors.includes(event.error)) run.errors.push(event.error);
				return;
			case "warning":
				run.warnings.push(event.message);
				return;
			case "node_started":
				this.start(event);
				return;
			case "node_finished": {
				const node = this.nodesById.get(event.stageId);
				if (!node) return;
				node.status = event.status;
				node.result = event.result;
				node.error = event.error;
				node.handled = event.handled;
				const carried = event.result as { usage?: Usage; durationMs?: number } | undefined;
				const durationMs = event.durationMs ?? carried?.durationMs;
				if (durationMs !== undefined) node.durationMs = durationMs;
				const started = node.started;
				const model =
					event.status === "completed" && isModelResult(event.result)
						? event.result.model
						: started.kind === "task"
							? started.model
							: undefined;
				const error = event.error && (event.status === "interrupted" ? `interrupted: ${event.error}` : event.error);
				// A completed stage's usage is in its result (the event does not repeat it unless it differs, as after
				// a fallback: then the event has the last attempt's, the result the sum of all).
				const usage = event.usage ?? (isModelResult(event.result) ? carried?.usage : undefined);
				node.attempts.push({
					...(model ? { model } : {}),
					ok: event.status === "completed",
					...(error ? { error } : {}),
					...(event.kind ? { kind: event.kind } : {}),
					...(usage ? { usage } : {}),
				});
				if (usage)
					this.spend(node, usage, started.kind === "task" ? `${node.id}\n${started.sessionFile}` : node.id);
				if (event.status === "failed" && !event.handled) {
					run.errors.push(`Workflow "${run.header.workflow}", stage "${node.id}": ${event.error ?? "failed"}`);
				}
				return;
			}
			case "node_attempt": {
				const node = this.nodesById.get(event.stageId);
				if (!node) return;
				node.attempts.push({
					model: event.model,
					ok: false,
					error: event.error,
					...(event.kind ? { kind: event.kind } : {}),
					...(event.skipped ? { skipped: true } : {}),
					...(event.usage ? { usage: event.usage } : {}),
				});
				if (event.usage)
					this.spend(node, event.usage, `${node.id}\n${event.sessionFile ?? `#${node.attempts.length}`}`);
				return;
			}
			case "node_replayed": {
				const node = this.nodesById.get(event.stageId);
				if (node) node.replayed = true;
				return;
			}
			case "node_steered":
				this.nodesById.get(event.stageId)?.steers.push(event.message);
				return;
			case "node_queued":
				this.queue.set(event.stageId, [...this.queued(event.stageId), event.message]);
				return;
			case "node_undeliverable":
				this.queue.delete(event.stageId);
				this.lost.set(event.stageId, { messages: event.messages, reason: event.reason });
				return;
		}
	}

	/** The run's status as people should see it: waiting questions make a running or paused run awaiting input. */
	status(): RunStatus {
		const { status } = this.run;
		if (status !== "running" && status !== "paused") return status;
		for (const node of this.nodesById.values()) if (node.status === "waiting") return "awaiting_input";
		return status;
	}

	private start(event: NodeStartedEvent): void {
		let node = this.nodesById.get(event.stageId);
		if (!node) {
			if (this.countsAsStage(event.kind, event.within)) this.stages++;
			node = {
				id: event.stageId,
				key: event.key,
				kind: event.kind,
				name: event.name,
				status: "running",
				parents: event.parents,
				fingerprint: event.fingerprint,
				attempts: [],
				sessionFiles: [],
				started: event,
				replayed: false,
				steers: [],
				usage: zeroUsage(),
				...(event.within ? { within: event.within } : {}),
			};
			this.nodesById.set(event.stageId, node);
		}
		// Messages queued before the stage started are its steers now: handed over in its first prompt.
		const queued = this.queue.get(event.stageId);
		this.queue.delete(event.stageId);
		this.nodesByKey.set(event.key, node);
		node.key = event.key;
		node.status = event.kind === "prompt" ? "waiting" : "running";
		node.parents = event.parents;
		node.fingerprint = event.fingerprint;
		node.consumed = event.consumed;
		node.started = event;
		node.replayed = false;
		node.steers = queued ? [...queued] : [];
		node.result = undefined;
		node.error = undefined;
		node.handled = undefined;
		if (event.rerun) node.rerun = event.rerun;
		if (event.kind === "task" && !node.sessionFiles.includes(event.sessionFile))
			node.sessionFiles.push(event.sessionFile);
	}

	/** A model stage counts once: a task (not a prompt of a multi-turn stage, which counts as one) or a stage session. */
	private countsAsStage(kind: NodeKind, within: string | undefined): boolean {
		if (kind === "stage") return true;
		return kind === "task" && (within === undefined || this.nodesById.get(within)?.kind !== "stage");
	}

	/** A node's usage event is cumulative for its transcript (`key`): totals move by the difference. */
	private spend(node: NodeState, usage: Usage, key: string): void {
		const before = this.transcriptUsage.get(key) ?? zeroUsage();
		this.transcriptUsage.set(key, usage);
		node.usage = addUsage(subtractUsage(node.usage, before), usage);
		this.run.usage = addUsage(subtractUsage(this.run.usage, before), usage);
	}
}

function subtractUsage(total: Usage, part: Usage): Usage {
	return addUsage(total, {
		input: -part.input,
		output: -part.output,
		cacheRead: -part.cacheRead,
		cacheWrite: -part.cacheWrite,
		totalTokens: -part.totalTokens,
		cost: -part.cost,
		turns: -part.turns,
		toolCalls: -part.toolCalls,
	});
}

function isModelResult(value: unknown): value is { model: string } {
	return typeof value === "object" && value !== null && typeof (value as { model?: unknown }).model === "string";
}
