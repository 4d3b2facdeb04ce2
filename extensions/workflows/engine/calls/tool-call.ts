// ctx.tool as a node of the call protocol: a side effect (run the tests, apply a patch, call an API) whose
// JSON result is what the workflow sees, now and on every replay, when the recorded call returns without
// calling `fn` again. Retries, a timeout per attempt, and a failure mode: "throw" fails the call with a
// StageError, "return" hands the failure back as data. `fn` gets an idempotency key that is the same across
// retries and resumes. A call that started and never finished is not repeated silently: its `onInterrupted`
// policy runs it again, asks a person, or fails the run.

import { createHash } from "node:crypto";
import { StageError } from "../../authoring/stage-error.js";
import type { ToolCallContext, ToolCallOptions, ToolCallResult, ToolFailure } from "../../authoring/types.js";
import type { ToolOutcome } from "../../store/events.js";
import { CallScope } from "../call-identity.js";
import { Frontier } from "../graph.js";
import type { Scope } from "../scope.js";
import { runPrompt } from "./prompt-call.js";
import { type CallPlan, callNode, type NodeCall, type NodeRef, type Prepared } from "./protocol.js";

/** Command output kept in the journal per stream; the tail is what explains a failure. */
const MAX_STREAM_CHARS = 16_000;

type ToolFn = (args: never, call: ToolCallContext) => unknown;

/** How the call goes ahead: call `fn`, or take it as done without calling it (a person said so). */
type ToolPlan = { call: true } | { call: false };

const TOOL_OPTION_KEYS = ["retries", "timeoutMs", "failureMode", "idempotent", "onInterrupted"];
const RUN_AGAIN = "run it again";
const TREAT_AS_DONE = "treat it as done";

export async function runToolCall(
	scope: Scope,
	name: string,
	args: unknown,
	fn: ToolFn,
	options: ToolCallOptions = {},
): Promise<unknown> {
	const toolName = typeof name === "string" && name.trim() ? name : "(unnamed tool)";
	return callNode(scope, toolCall(scope, toolName, name, args, fn, options ?? {}));
}

function toolCall(
	scope: Scope,
	toolName: string,
	rawName: unknown,
	args: unknown,
	fn: ToolFn,
	options: ToolCallOptions,
): NodeCall<"tool", Prepared, ToolPlan> {
	const { services } = scope;
	const failureMode = options.failureMode ?? "throw";
	const idempotencyKey = (node: NodeRef) =>
		`${services.runId}-${createHash("sha256").update(node.key).digest("hex").slice(0, 16)}`;
	return {
		kind: "tool",
		name: toolName,
		sideEffects: true,
		prepare: () => {
			const problem = checkToolCall(rawName, args, fn, options);
			if (problem) return { ok: false, error: problem, start: { args: jsonOrNull(args) } };
			const fingerprint = createHash("sha256")
				.update(JSON.stringify({ name: toolName, args, failureMode }))
				.digest("hex")
				.slice(0, 16);
			return { ok: true, value: { fingerprint } };
		},
		plan: (node, _ready, changed) => planTool(scope, node, changed, options),
		start: (node) => ({ args, idempotencyKey: idempotencyKey(node) }),
		run: async (node, _ready, plan, signal) => {
			if (!plan.call) {
				return { status: "completed", result: { ok: true, value: null }, calls: 0, durationMs: 0 };
			}
			const dryRun = services.settings.dryRun;
			if (
				dryRun &&
				!(dryRun.allowTools === true || (Array.isArray(dryRun.allowTools) && dryRun.allowTools.includes(toolName)))
			) {
				services.warn(`dry run: ctx.tool "${node.id}" was not run; it returned null`);
				return { status: "completed", result: { ok: true, value: null }, calls: 0, durationMs: 0 };
			}
			const startedAt = Date.now();
			const attempts = 1 + (options.retries ?? 0);
			let outcome: ToolOutcome = { ok: false, error: { message: "not run" } };
			let calls = 0;
			while (calls < attempts && !signal.aborted) {
				calls++;
				outcome = await attempt(fn, args, calls, idempotencyKey(node), options.timeoutMs, signal);
				if (outcome.ok) break;
			}
			const durationMs = Date.now() - startedAt;
			if (signal.aborted && !outcome.ok) {
				const stopped = services.stopping() === "cancel" ? "cancelled" : "interrupted";
				return { status: stopped, error: "stopped: the run was stopped", calls, durationMs };
			}
			if (outcome.ok) return { status: "completed", result: outcome, calls, durationMs };
			const handled = failureMode === "return";
			return {
				status: "failed",
				error: describeFailure(outcome.error),
				...(handled ? { result: outcome, handled: true } : {}),
				calls,
				durationMs,
			};
		},
		deliver: (node, result, outcome) => {
			if (outcome && (outcome.status === "cancelled" || outcome.status === "interrupted")) {
				throw new StageError(services.workflow, node.id, "stopped: the run was stopped", true);
			}
			const recorded = result as ToolOutcome | undefined;
			if (!recorded) throw new StageError(services.workflow, node.id, outcome?.error ?? "failed");
			if (failureMode === "return") return recorded as ToolCallResult<unknown>;
			if (recorded.ok) return recorded.value;
			throw new StageError(services.workflow, node.id, describeFailure(recorded.error));
		},
	};
}

/** Replay what finished; run again what failed or changed; ask the policy about what was cut short. */
async function planTool(
	scope: Scope,
	node: NodeRef,
	changed: string | undefined,
	options: ToolCallOptions,
): Promise<CallPlan<ToolPlan>> {
	const recorded = node.recorded;
	const call = { type: "run", detail: { call: true } } as const;
	if (!recorded) return call;
	if (changed) return { ...call, rerun: `its arguments changed (${changed})` };
	if (recorded.result !== undefined && (recorded.status === "completed" || recorded.handled)) {
		return { type: "replay", result: recorded.result };
	}
	if (recorded.status === "failed") return { ...call, rerun: "it failed before" };
	// Started and never finished (a crash), or stopped while `fn` ran: its effect may or may not have happened.
	const policy = options.onInterrupted ?? (options.idempotent ? "rerun" : "ask");
	const cut = recorded.status === "running" ? "the process running it stopped" : "the run was stopped";
	if (policy === "rerun")
		return { ...call, rerun: `interrupted while it ran (${cut}); run again (onInterrupted: rerun)` };
	if (policy === "fail") {
		return {
			type: "fail",
			error: `interrupted while it ran (${cut}); whether its effect happened is unknown, and onInterrupted is "fail"`,
		};
	}
	// Asked as a question of its own, under the call's identity, beside the call in the graph.
	const question: Scope = { ...scope, calls: new CallScope(`${node.key}/`), frontier: new Frontier(node.parents) };
	const choice = await runPrompt(question, {
		kind: "select",
		message: `Tool call "${node.id}" was interrupted while it ran (${cut}); its effect may or may not have happened. Run it again, or treat it as done (it then returns null)?`,
		options: [RUN_AGAIN, TREAT_AS_DONE],
	});
	if (choice === TREAT_AS_DONE) {
		return {
			type: "run",
			free: true,
			rerun: "treated as done by a person after an interruption",
			detail: { call: false },
		};
	}
	return { ...call, rerun: "run again by a person after an interruption" };
}

function jsonOrNull(value: unknown): unknown {
	try {
		return value === undefined ? null : (JSON.parse(JSON.stringify(value)) ?? null);
	} catch {
		return null;
	}
}

async function attempt(
	fn: ToolFn,
	args: unknown,
	number: number,
	idempotencyKey: string,
	timeoutMs: number | undefined,
	runSignal: AbortSignal,
): Promise<ToolOutcome> {
	const controller = new AbortController();
	const signal = AbortSignal.any([runSignal, controller.signal]);
	let timer: ReturnType<typeof setTimeout> | undefined;
	const stop = new Promise<ToolOutcome>((resolve) => {
		const onAbort = () =>
			resolve({ ok: false, error: { message: runSignal.aborted ? "stopped: the run was stopped" : "aborted" } });
		signal.addEventListener("abort", onAbort, { once: true });
		if (timeoutMs !== undefined) {
			timer = setTimeout(() => {
				resolve({ ok: false, error: { message: `timed out after ${timeoutMs} ms (attempt ${number})` } });
				controller.abort();
			}, timeoutMs);
		}
	});
	const run = (async (): Promise<ToolOutcome> => {
		try {
			const value = await fn(args as never, { signal, attempt: number, idempotencyKey });
			return { ok: true, value: toJson(value) };
		} catch (error) {
			return { ok: false, error: toFailure(error) };
		}
	})();
	try {
		return await Promise.race([run, stop]);
	} finally {
		clearTimeout(timer);
	}
}

/** The JSON form of a result: what is journaled and what a replay returns, so both runs see the same. */
function toJson(value: unknown): unknown {
	if (value === undefined) return null;
	const text = JSON.stringify(value);
	if (text === undefined) throw new Error(`the result is not JSON (got ${typeof value})`);
	return JSON.parse(text);
}

/** A failure as data; child_process errors keep their exit code and output. */
function toFailure(error: unknown): ToolFailure {
	if (!(error instanceof Error)) return { message: String(error) };
	const details = error as Error & {
		code?: unknown;
		exitCode?: unknown;
		status?: unknown;
		stdout?: unknown;
		stderr?: unknown;
	};
	const exitCode = [details.exitCode, details.status, details.code].find((value) => typeof value === "number");
	return {
		message: error.message,
		...(typeof exitCode === "number" ? { exitCode } : {}),
		...(details.stdout !== undefined ? { stdout: tail(String(details.stdout)) } : {}),
		...(details.stderr !== undefined ? { stderr: tail(String(details.stderr)) } : {}),
	};
}

function describeFailure(error: ToolFailure): string {
	const parts = [error.message];
	if (error.exitCode !== undefined) parts.push(`exit code ${error.exitCode}`);
	if (error.stderr?.trim()) parts.push(`stderr: ${error.stderr.trim().slice(-500)}`);
	return parts.join("; ");
}

function tail(text: string): string {
	return text.length <= MAX_STREAM_CHARS
		? text
		: `[...${text.length - MAX_STREAM_CHARS} characters cut]${text.slice(-MAX_STREAM_CHARS)}`;
}

function checkToolCall(name: unknown, args: unknown, fn: unknown, options: ToolCallOptions): string | undefined {
	if (typeof name !== "string" || name.trim() === "")
		return `name: expected a non-empty string, got ${JSON.stringify(name)}`;
	if (typeof fn !== "function") return `fn: expected a function, got ${typeof fn}`;
	try {
		if (args !== undefined && JSON.stringify(args) === undefined)
			return `args: expected JSON data, got ${typeof args}`;
	} catch (error) {
		return `args: expected JSON data (${error instanceof Error ? error.message : String(error)})`;
	}
	if (typeof options !== "object" || options === null) return `options: expected an object, got ${typeof options}`;
	const unknown = Object.keys(options).filter((key) => !TOOL_OPTION_KEYS.includes(key));
	if (unknown.length > 0) {
		return `unknown option ${unknown.map((key) => `"${key}"`).join(", ")}: pi-workflows has no such ctx.tool option (expected one of: ${TOOL_OPTION_KEYS.join(", ")})`;
	}
	const { retries, timeoutMs, failureMode, onInterrupted, idempotent } = options;
	if (retries !== undefined && (!Number.isInteger(retries) || retries < 0)) {
		return `retries: expected an integer from 0 and up, got ${JSON.stringify(retries)}`;
	}
	if (timeoutMs !== undefined && (typeof timeoutMs !== "number" || !(timeoutMs > 0))) {
		return `timeoutMs: expected a number above 0, got ${JSON.stringify(timeoutMs)}`;
	}
	if (failureMode !== undefined && failureMode !== "throw" && failureMode !== "return") {
		return `failureMode: expected "throw" or "return", got ${JSON.stringify(failureMode)}`;
	}
	if (onInterrupted !== undefined && !["rerun", "ask", "fail"].includes(onInterrupted)) {
		return `onInterrupted: expected "rerun", "ask" or "fail", got ${JSON.stringify(onInterrupted)}`;
	}
	if (idempotent !== undefined && typeof idempotent !== "boolean") {
		return `idempotent: expected true or false, got ${JSON.stringify(idempotent)}`;
	}
	return undefined;
}
