// ctx.stage: a multi-turn stage, one Pi conversation held open for several prompts. The session is one node
// of the graph (kind "stage"), open from its first prompt until `close()`; each `prompt()` is a recorded call
// inside it (a task node `impl/1`, `impl/2`, ...) that continues the session's one transcript. So a resume
// replays the finished prompts from the journal, continues an interrupted one from the transcript, and only
// then sends new ones. The session counts as one stage of the budget. With `worktree` the session has one
// worktree, made when it opens, and every prompt works in it.

import { createHash } from "node:crypto";
import { StageError } from "../../authoring/stage-error.js";
import type { StageOptions, StageResult, StageSession, TaskOptions } from "../../authoring/types.js";
import { CallScope } from "../call-identity.js";
import { Frontier } from "../graph.js";
import type { Scope } from "../scope.js";
import { ensureWorktree, worktreeOptions } from "../worktrees.js";
import { callNode, journalStart, type NodeCall, type NodeRef, type Prepared } from "./protocol.js";
import { runTask } from "./task-call.js";
import { attemptFile } from "./task-plan.js";

interface Opened {
	inner: Scope;
	node: NodeRef;
	sessionFile: string;
}

export function openStage(scope: Scope, name: string, options: StageOptions): StageSession {
	const { services } = scope;
	const stageName = typeof name === "string" && name.trim() ? name : "(unnamed)";
	let opening: Promise<Opened> | undefined;
	let ended: Promise<unknown> | undefined;
	let close: () => void = () => undefined;
	const closed = new Promise<void>((resolve) => {
		close = resolve;
	});
	let prompts = 0;
	let busy = false;
	let closing = false;
	const problem = stageProblem(options);

	const open = (): Promise<Opened> => {
		if (opening) return opening;
		opening = new Promise<Opened>((resolve, reject) => {
			// Once the session's node is journaled its prompts may run (resolve); its end settles later, on close.
			ended = callNode(scope, sessionCall(scope, stageName, options, problem, resolve, closed));
			ended.catch(reject);
		});
		services.openStages.add(finish);
		return opening;
	};
	const finish = async () => {
		closing = true;
		close();
		services.openStages.delete(finish);
		// A session that could not open already failed the prompt that opened it, which threw its error.
		await ended?.catch(() => undefined);
	};
	const prompt = async (text: string, extra: PromptOptions = {}): Promise<StageResult> => {
		if (closing) throw new StageError(services.workflow, stageName, "prompt: the stage was closed; open a new one");
		if (busy) {
			throw new StageError(
				services.workflow,
				stageName,
				"prompt: the previous prompt has not finished; await each prompt before the next",
			);
		}
		busy = true;
		try {
			const { inner, node, sessionFile } = await open();
			prompts++;
			// The session's worktree is the prompts' place; a prompt makes none of its own.
			const { worktree: _shared, ...own } = options as TaskOptions;
			const task: TaskOptions = { ...own, ...extra, prompt: text };
			return await runTask(inner, stageName, task, { stageId: node.id, index: prompts, sessionFile });
		} finally {
			busy = false;
		}
	};
	return {
		get id() {
			return stageName;
		},
		prompt,
		close: async () => {
			if (!opening) {
				closing = true;
				return;
			}
			await finish();
		},
	};
}

/** What one prompt may set besides its text: where its answer goes and its shape. */
type PromptOptions = Pick<TaskOptions, "output" | "outputMode" | "schema" | "previous" | "reads">;

function stageProblem(given: StageOptions): string | undefined {
	if (typeof given !== "object" || given === null) return `options: expected an object, got ${typeof given}`;
	const options = given as TaskOptions;
	if (options.fallbackModels !== undefined) {
		return "fallbackModels: a multi-turn stage keeps one conversation with one model; use ctx.task for fallbacks";
	}
	if (options.context === "fork" || options.forkFrom !== undefined || options.forkFromSessionFile !== undefined)
		return `context "fork": a multi-turn stage starts its own conversation`;
	if (options.prompt !== undefined || options.task !== undefined)
		return "prompt: a multi-turn stage takes each prompt from prompt(text)";
	return undefined;
}

function sessionCall(
	scope: Scope,
	name: string,
	options: StageOptions,
	problem: string | undefined,
	opened: (value: Opened) => void,
	closed: Promise<void>,
): NodeCall<"stage", Prepared & { sessionFile: string; model: string }, undefined> {
	const { services } = scope;
	const model = (typeof options === "object" && options?.model) || services.settings.defaultModel || "";
	let inner: Opened | undefined;
	const innerScope = (node: NodeRef, sessionFile: string): Opened => {
		inner ??= {
			node,
			sessionFile,
			inner: {
				...scope,
				frontier: new Frontier(node.parents),
				calls: CallScope.within(node.key),
				within: node.id,
			},
		};
		return inner;
	};
	return {
		kind: "stage",
		name,
		countsAsStage: true,
		prepare: (node) => {
			const recorded = node.recorded?.started.kind === "stage" ? node.recorded.started : undefined;
			const sessionFile = recorded?.sessionFile ?? attemptFile(scope, node.id, undefined);
			if (problem) return { ok: false, error: problem, start: { model, sessionFile } };
			const fingerprint = createHash("sha256")
				.update(
					JSON.stringify({
						model,
						tools: options.tools ?? null,
						systemPrompt: options.systemPrompt ?? null,
						worktree: options.worktree ?? null,
					}),
				)
				.digest("hex")
				.slice(0, 16);
			return { ok: true, value: { fingerprint, sessionFile, model } };
		},
		plan: (node, ready, changed) => {
			// A changed session (model, tools, system prompt) starts a new conversation in a new transcript.
			const sessionFile = changed ? attemptFile(scope, node.id, node.recorded) : ready.sessionFile;
			innerScope(node, sessionFile);
			const recorded = node.recorded;
			if (recorded?.status === "completed" && !changed) return { type: "replay", result: recorded.result };
			return { type: "run", ...(changed ? { rerun: changed } : {}), detail: undefined };
		},
		start: (_node, ready) => ({ model: ready.model, sessionFile: inner?.sessionFile ?? ready.sessionFile }),
		run: async (node, ready, _detail, signal) => {
			const startedAt = Date.now();
			const own = worktreeOptions(options.worktree);
			if (own && inner) {
				// One worktree for the whole conversation: every prompt works there.
				const recorded = node.recorded?.started.kind === "stage" ? node.recorded.started.worktree : undefined;
				const made = await ensureWorktree(scope, node.id, own, recorded, "its worktree");
				if (!made.ok) return { status: "failed", error: made.error, durationMs: Date.now() - startedAt };
				if (made.value.root !== recorded?.root || made.value.baseCommit !== recorded?.baseCommit) {
					journalStart<"stage">(scope, node, ready, {
						model,
						sessionFile: inner.sessionFile,
						worktree: made.value,
					});
				}
				inner.inner.place = { cwd: made.value.cwd, worktree: made.value };
			}
			// Journaled as started: its prompts may run now.
			if (inner) opened(inner);
			const stopped = new Promise<"stopped">((resolve) => {
				if (signal.aborted) resolve("stopped");
				signal.addEventListener("abort", () => resolve("stopped"), { once: true });
			});
			const how = await Promise.race([closed.then(() => "closed" as const), stopped]);
			const durationMs = Date.now() - startedAt;
			if (how === "closed") return { status: "completed", result: { sessionFile: inner?.sessionFile }, durationMs };
			const stopping = services.stopping();
			return {
				status: stopping === "cancel" ? "cancelled" : "interrupted",
				error: stopping === "pause" ? "paused" : "stopped",
				durationMs,
			};
		},
		deliver: (node, result, outcome) => {
			if (outcome?.status === "failed") throw new StageError(services.workflow, node.id, outcome.error ?? "failed");
			// A session closed in an earlier process: its prompts replay from their records.
			if (inner) opened(inner);
			return result;
		},
	};
}
