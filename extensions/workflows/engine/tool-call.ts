// ctx.tool: a deterministic side effect (run the tests, apply a patch, call an API) recorded in the
// journal as a graph node. Its JSON result is what the workflow sees, now and on every replay, when
// the recorded call returns without calling `fn` again. Retries, a timeout per attempt, and a failure
// mode: "throw" fails the call with a StageError, "return" hands the failure back as data.

import { createHash } from "node:crypto";
import { StageError } from "../authoring/stage-error.js";
import type { ToolCallContext, ToolCallOptions, ToolCallResult, ToolFailure } from "../authoring/types.js";
import type { ToolOutcome } from "../store/events.js";
import type { Scope } from "./scope.js";

/** Command output kept in the journal per stream; the tail is what explains a failure. */
const MAX_STREAM_CHARS = 16_000;

export async function runToolCall(
	scope: Scope,
	name: string,
	args: unknown,
	fn: (args: never, call: ToolCallContext) => unknown,
	options: ToolCallOptions = {},
): Promise<unknown> {
	const { services } = scope;
	const toolName = typeof name === "string" && name.trim() ? name : "(unnamed tool)";
	const key = scope.calls.next("tool", toolName);
	const recorded = services.replay.get(key);
	const id = recorded?.kind === "tool" ? recorded.stageId : services.ids.next(toolName);
	const fail = (reason: string, stopped = false) => new StageError(services.workflow, id, reason, stopped);
	const problem = checkToolCall(name, args, fn, options);
	if (problem) throw fail(problem);
	const failureMode = options.failureMode ?? "throw";
	const fingerprint = createHash("sha256")
		.update(JSON.stringify({ name: toolName, args, failureMode }))
		.digest("hex")
		.slice(0, 16);
	const parents = scope.frontier.take();
	const settle = () => scope.frontier.settle(id);
	if (scope.signal.aborted) {
		settle();
		throw fail("not started: the run was stopped", true);
	}
	const deliver = (outcome: ToolOutcome): unknown => {
		if (failureMode === "return") return outcome as ToolCallResult<unknown>;
		if (outcome.ok) return outcome.value;
		throw fail(describeFailure(outcome.error));
	};

	if (recorded?.kind === "tool" && recorded.fingerprint === fingerprint && recorded.outcome) {
		services.record({ type: "stage_replayed", at: now(), stageId: id });
		settle();
		return deliver(recorded.outcome);
	}
	services.record(
		{
			type: "tool_started",
			at: now(),
			stageId: id,
			key,
			name: toolName,
			parents,
			fingerprint,
			args,
			...(recorded
				? { rerun: recorded.fingerprint === fingerprint ? "not finished before" : "its arguments changed" }
				: {}),
		},
		true,
	);
	const startedAt = Date.now();
	const attempts = 1 + (options.retries ?? 0);
	let outcome: ToolOutcome = { ok: false, error: { message: "not run" } };
	let calls = 0;
	while (calls < attempts && !scope.signal.aborted) {
		calls++;
		outcome = await attempt(fn, args, calls, options.timeoutMs, scope.signal);
		if (outcome.ok) break;
	}
	const stopped = scope.signal.aborted && !outcome.ok;
	services.record(
		{
			type: "tool_finished",
			at: now(),
			stageId: id,
			outcome,
			calls,
			durationMs: Date.now() - startedAt,
			...(stopped ? { stopped: true } : {}),
			...(!outcome.ok && !stopped && failureMode === "return" ? { failureReturned: true } : {}),
		},
		true,
	);
	settle();
	if (stopped) throw fail("stopped: the run was stopped", true);
	return deliver(outcome);
}

async function attempt(
	fn: (args: never, call: ToolCallContext) => unknown,
	args: unknown,
	number: number,
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
			const value = await fn(args as never, { signal, attempt: number });
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
	const { retries, timeoutMs, failureMode } = options;
	if (retries !== undefined && (!Number.isInteger(retries) || retries < 0)) {
		return `retries: expected an integer from 0 and up, got ${JSON.stringify(retries)}`;
	}
	if (timeoutMs !== undefined && (typeof timeoutMs !== "number" || !(timeoutMs > 0))) {
		return `timeoutMs: expected a number above 0, got ${JSON.stringify(timeoutMs)}`;
	}
	if (failureMode !== undefined && failureMode !== "throw" && failureMode !== "return") {
		return `failureMode: expected "throw" or "return", got ${JSON.stringify(failureMode)}`;
	}
	return undefined;
}

function now(): string {
	return new Date().toISOString();
}
