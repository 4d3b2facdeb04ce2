// The options a stage takes, by name: an option pi-workflows does not know is refused, never ignored. Two are
// other names kept for workflow files written for Atomic: `task` is `prompt`, and `excludedTools` takes tools
// away from the stage's list. `normalizeTaskOptions` turns them into the options the engine runs with.

import type { TaskOptions } from "../../authoring/types.js";

/** Every option of ctx.task (and of a multi-turn stage's prompts). */
export const TASK_OPTION_KEYS = [
	"prompt",
	"task",
	"context",
	"forkFrom",
	"forkFromSessionFile",
	"model",
	"fallbackModels",
	"schema",
	"timeoutMs",
	"idleTimeoutMs",
	"toolTimeoutMs",
	"tools",
	"excludedTools",
	"output",
	"outputMode",
	"reads",
	"previous",
	"systemPrompt",
	"budget",
	"worktree",
] as const;

/** The tools a stage has when it names none: Pi's own. */
export const DEFAULT_STAGE_TOOLS = ["read", "bash", "edit", "write"] as const;

/** Options as the engine runs them: `task` moved to `prompt`, `excludedTools` taken out of `tools`. Anything it
 * cannot settle (both `task` and `prompt`, a list that is not one) is left as given for the check to refuse. */
export function normalizeTaskOptions(options: TaskOptions): TaskOptions {
	if (typeof options !== "object" || options === null) return options;
	let normalized: TaskOptions = options;
	if (typeof options.task === "string" && options.prompt === undefined) {
		const { task, ...rest } = normalized;
		normalized = { ...rest, prompt: task as string };
	}
	const excluded = options.excludedTools;
	if (Array.isArray(excluded) && excluded.every((tool) => typeof tool === "string")) {
		const { excludedTools: _excluded, ...rest } = normalized;
		const tools = normalized.tools ?? DEFAULT_STAGE_TOOLS;
		normalized = Array.isArray(tools) ? { ...rest, tools: tools.filter((tool) => !excluded.includes(tool)) } : rest;
	}
	return normalized;
}

/** What is wrong with the option names of a stage (after normalizing), or undefined. */
export function taskOptionNameProblem(options: TaskOptions): string | undefined {
	const unknown = Object.keys(options).filter((key) => !(TASK_OPTION_KEYS as readonly string[]).includes(key));
	if (unknown.length > 0) {
		const names = unknown.map((key) => `"${key}"`).join(", ");
		return `unknown option${unknown.length > 1 ? "s" : ""} ${names}: pi-workflows has no such stage option (expected one of: ${TASK_OPTION_KEYS.join(", ")})`;
	}
	if (options.task !== undefined && options.prompt !== undefined) {
		return `task and prompt are one option (task is another name for prompt); give one of them, got both`;
	}
	if (options.task !== undefined) {
		return `task (the stage's prompt): expected a non-empty string, got ${JSON.stringify(options.task)}`;
	}
	if (options.excludedTools !== undefined) {
		return `excludedTools: expected an array of tool names, got ${JSON.stringify(options.excludedTools)}`;
	}
	return undefined;
}
