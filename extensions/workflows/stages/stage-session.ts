// Runs one stage as a real Pi agent session in this process: its own transcript file, the host's models
// and credentials (through the model host, on either Pi line), in-memory settings, an optional fork of an
// earlier stage's transcript, tools of its own (a structured result's submit tool), follow-up prompts until
// its caller is satisfied. Outcomes are data: a provider error (with its kind), an abort or a bad tool list
// come back as `ok: false`. A provider that ignores an abort is abandoned after a grace period, so a stop
// always returns.

import { renameSync } from "node:fs";
import { dirname } from "node:path";
import type { AssistantMessage } from "@mariozechner/pi-ai";
import {
	type AgentSession,
	createAgentSession,
	type ExtensionUIContext,
	type ModelRegistry,
	SessionManager,
	SettingsManager,
	type ToolDefinition,
} from "@mariozechner/pi-coding-agent";
import type { Usage } from "../authoring/types.js";
import { addUsage, zeroUsage } from "../authoring/usage.js";
import { containmentExtension } from "./containment.js";
import { classifyProviderError, type FailureKind } from "./failure-kind.js";
import { modelHost } from "./model-host.js";
import type { ResolvedModel } from "./model-spec.js";
import { createStageResourceLoader, type StageResourceOptions } from "./stage-resources.js";
import { ownWorkStart } from "./transcript.js";
import { usageOfMessages } from "./usage.js";

/** Live progress of a stage: for widgets and status lines (tool starts and ends), and for its watchdogs. */
export type StageActivity =
	| { type: "tool_start"; tool: string; args?: unknown }
	/** `error`: what a failed tool call answered (Pi's own check of its arguments, say). */
	| { type: "tool_end"; tool: string; isError: boolean; error?: string }
	/** The model streamed some output. */
	| { type: "output" }
	/** The model finished a turn (one answer), with what that turn spent. */
	| { type: "turn"; usage: Usage };

/** How long a stop waits for a provider that ignores it before the stage is abandoned (its late answer unused). */
export const ABANDON_AFTER_MS = 5_000;

let abandonedCount = 0;

/** Sessions of this process left behind because their provider ignored a stop (they may hold the process open). */
export function abandonedSessions(): number {
	return abandonedCount;
}

export interface StageRetrySettings {
	enabled?: boolean;
	maxRetries?: number;
	baseDelayMs?: number;
}

export interface StageSessionSpec {
	cwd: string;
	agentDir: string;
	/** Transcript path for this stage. */
	sessionFile: string;
	/** Transcript of an earlier stage to continue from (`context: "fork"`). */
	forkFrom?: string;
	model: ResolvedModel;
	tools?: readonly string[];
	appendSystemPrompt?: string;
	prompt: string;
	/** Text the stage's own first prompt starts with: what comes before it is a fork's copied history. */
	promptMarker: string;
	/** Set when resuming: the transcript at `sessionFile` is continued with this message instead of `prompt`. */
	continueWith?: string;
	modelRegistry: ModelRegistry;
	resources: StageResourceOptions;
	/** Pi's transient-error retries (429, 5xx, overloaded); on by default with Pi's own defaults. */
	retry?: StageRetrySettings;
	/** Dialogs raised by extensions inside the stage go here (the host's UI). */
	uiContext?: ExtensionUIContext;
	signal: AbortSignal;
	onActivity?: (activity: StageActivity) => void;
	/** Called with a way to steer the stage once its session runs, and with undefined when it stops. */
	onSteerable?: (steer: ((message: string) => Promise<void>) | undefined) => void;
	/** Problems that do not end the stage (an abort that failed, say). */
	onWarning?: (message: string) => void;
	/** Tools of the stage's own, next to Pi's (a structured result's submit tool). */
	customTools?: ToolDefinition[];
	/** Asked when the model has answered: a message to prompt it with again (a correction), or undefined. */
	followUp?: () => string | undefined;
	/** How long a stop waits for the provider before abandoning the session (default ABANDON_AFTER_MS). */
	abandonAfterMs?: number;
	/** Folders the stage may write in: its write, edit and bash calls that would write elsewhere are refused. */
	writeRoots?: readonly string[];
	/** A stage in a git worktree: its root, the only place (with the agent dir) context files are read from. */
	contextRoot?: string;
}

export interface StageSessionOutcome {
	ok: boolean;
	/** Final assistant text (empty when the stage failed before answering). */
	text: string;
	error?: string;
	/** What kind of failure it was, when the provider or the model caused it. */
	kind?: FailureKind;
	aborted?: boolean;
	/** The provider ignored the stop: the session was left behind, its late answer unused. */
	abandoned?: boolean;
	usage: Usage;
}

export async function runStageSession(spec: StageSessionSpec): Promise<StageSessionOutcome> {
	// In-memory settings: a stage's model and thinking changes must never touch the user's settings file.
	const settingsManager = SettingsManager.inMemory({
		compaction: { enabled: true },
		retry: { enabled: true, ...spec.retry },
	});
	const resourceLoader = await createStageResourceLoader({
		cwd: spec.cwd,
		agentDir: spec.agentDir,
		settingsManager,
		resources: spec.resources,
		appendSystemPrompt: spec.appendSystemPrompt,
		...(spec.contextRoot ? { contextRoot: spec.contextRoot } : {}),
		...(spec.writeRoots
			? {
					extensionFactories: [
						containmentExtension({ roots: spec.writeRoots, label: stageLabel(spec.promptMarker) }),
					],
				}
			: {}),
	});
	const { session } = await createAgentSession({
		cwd: spec.cwd,
		agentDir: spec.agentDir,
		...modelHost().sessionOptions(spec.modelRegistry),
		settingsManager,
		resourceLoader,
		sessionManager: openTranscript(spec),
		model: spec.model.model,
		thinkingLevel: spec.model.thinkingLevel ?? "off",
		tools: spec.tools ? [...spec.tools] : undefined,
		...(spec.customTools ? { customTools: spec.customTools } : {}),
	});
	const startIndex = session.messages.length;
	try {
		const unknownTools = unknownToolNames(session, spec.tools);
		if (unknownTools) return failure(unknownTools);
		await session.bindExtensions({ uiContext: spec.uiContext });
		return await promptUntilDone(session, spec, startIndex);
	} finally {
		session.dispose();
	}
}

/** The stage's id from its prompt marker (`Stage "<id>" of workflow ...`), for containment messages. */
function stageLabel(marker: string): string {
	return /Stage "([^"]+)"/.exec(marker)?.[1] ?? marker;
}

function openTranscript(spec: StageSessionSpec): SessionManager {
	if (!spec.forkFrom || spec.continueWith !== undefined)
		return SessionManager.open(spec.sessionFile, undefined, spec.cwd);
	// forkFrom names the copy itself; move it to the stage's own transcript path.
	const fork = SessionManager.forkFrom(spec.forkFrom, spec.cwd, dirname(spec.sessionFile));
	const copied = fork.getSessionFile();
	if (copied && copied !== spec.sessionFile) renameSync(copied, spec.sessionFile);
	return SessionManager.open(spec.sessionFile, undefined, spec.cwd);
}

function unknownToolNames(session: AgentSession, requested: readonly string[] | undefined): string | undefined {
	if (!requested) return undefined;
	const available = session.getAllTools().map((tool) => tool.name);
	const unknown = requested.filter((name) => !available.includes(name));
	if (unknown.length === 0) return undefined;
	return `unknown tool${unknown.length > 1 ? "s" : ""} ${unknown.map((n) => `"${n}"`).join(", ")} (available: ${available.join(", ")})`;
}

async function promptUntilDone(
	session: AgentSession,
	spec: StageSessionSpec,
	startIndex: number,
): Promise<StageSessionOutcome> {
	if (spec.signal.aborted) return { ...failure("stopped before it started"), aborted: true };
	let abandon: () => void = () => undefined;
	const abandoned = new Promise<"abandoned">((resolve) => {
		abandon = () => resolve("abandoned");
	});
	let graceTimer: ReturnType<typeof setTimeout> | undefined;
	const abort = () => {
		session.abort().catch((error: unknown) => {
			spec.onWarning?.(`aborting the session failed: ${error instanceof Error ? error.message : String(error)}`);
		});
		graceTimer = setTimeout(abandon, spec.abandonAfterMs ?? ABANDON_AFTER_MS);
	};
	spec.signal.addEventListener("abort", abort, { once: true });
	// Every answer of this session run, as it ended. Pi takes some out of the session again (an error it retries, an
	// overflowing answer it compacts away): what they spent is spent all the same, and the last error is the one
	// that ended the stage.
	const answers: AssistantMessage[] = [];
	const unsubscribe = session.subscribe((event) => {
		if (event.type === "message_end" && event.message.role === "assistant") answers.push(event.message);
		const tell = spec.onActivity;
		if (!tell) return;
		if (event.type === "tool_execution_start") tell({ type: "tool_start", tool: event.toolName, args: event.args });
		else if (event.type === "tool_execution_end")
			tell({
				type: "tool_end",
				tool: event.toolName,
				isError: event.isError,
				...(event.isError ? { error: resultText(event.result) } : {}),
			});
		else if (event.type === "message_update") tell({ type: "output" });
		else if (event.type === "message_end" && event.message.role === "assistant") {
			tell({ type: "turn", usage: usageOfMessages([event.message]) });
		}
	});
	spec.onSteerable?.(async (message) => {
		await session.steer(message);
	});
	try {
		let message: string | undefined = spec.continueWith ?? spec.prompt;
		while (message !== undefined) {
			const ended = await Promise.race([session.prompt(message, { expandPromptTemplates: false }), abandoned]);
			if (ended === "abandoned") {
				abandonedCount++;
				const seconds = (spec.abandonAfterMs ?? ABANDON_AFTER_MS) / 1000;
				return {
					ok: false,
					text: "",
					aborted: true,
					abandoned: true,
					error: `stopped; the provider ignored the stop for ${seconds} s, so the session was abandoned and its late answer is not used`,
					usage: usageSince(session, spec.promptMarker, startIndex),
				};
			}
			if (spec.signal.aborted) break;
			// A steer that arrived as the agent loop ended was never delivered: deliver it now.
			const late = session.clearQueue().steering;
			if (late.length > 0) message = late.join("\n\n");
			else if (lastAssistant(session, startIndex)?.stopReason === "error") message = undefined;
			else message = spec.followUp?.();
		}
	} catch (error) {
		const message = error instanceof Error ? error.message : String(error);
		return { ok: false, text: "", error: message, usage: usageSince(session, spec.promptMarker, startIndex) };
	} finally {
		clearTimeout(graceTimer);
		spec.onSteerable?.(undefined);
		unsubscribe();
		spec.signal.removeEventListener("abort", abort);
	}
	const kept = new Set(session.messages.filter((message) => message.role === "assistant").map(answerKey));
	const removed = answers.filter((answer) => !kept.has(answerKey(answer)));
	const usage = addUsage(usageSince(session, spec.promptMarker, startIndex), usageOfMessages(removed));
	let last = lastAssistant(session, startIndex);
	const lastAnswer = answers.at(-1);
	// The stage's last answer was an error that Pi took out again (a compaction that did not make it fit).
	if (lastAnswer?.stopReason === "error" && removed.includes(lastAnswer) && last?.stopReason !== "error") {
		last = lastAnswer;
	}
	if (spec.signal.aborted || last?.stopReason === "aborted") {
		return { ok: false, text: "", aborted: true, kind: "aborted", error: "stopped", usage };
	}
	if (!last) return { ok: false, text: "", kind: "empty", error: "the model returned no answer", usage };
	if (last.stopReason === "error") {
		const error = last.errorMessage ?? "the provider returned an error";
		return { ok: false, text: "", kind: classifyProviderError(last, spec.model.model.contextWindow), error, usage };
	}
	const text = session.getLastAssistantText() ?? "";
	return { ok: true, text, usage };
}

/** The text of a tool's result (its text blocks), for a failed call's error. */
function resultText(result: unknown): string {
	const content = (result as { content?: Array<{ type: string; text?: string }> } | undefined)?.content;
	if (!Array.isArray(content)) return typeof result === "string" ? result : "";
	return content
		.filter((block) => block.type === "text")
		.map((block) => block.text ?? "")
		.join("\n");
}

/** An answer's identity across Pi's rebuilds of the message list (which may copy messages). */
function answerKey(message: {
	role: string;
	timestamp?: number;
	usage?: { totalTokens: number };
	stopReason?: string;
}): string {
	return `${message.timestamp}:${message.usage?.totalTokens}:${message.stopReason}`;
}

function lastAssistant(session: AgentSession, startIndex: number) {
	return session.messages.slice(startIndex).findLast((message) => message.role === "assistant");
}

/** The stage's spend: everything after its own first prompt, so a continued transcript counts whole. */
function usageSince(session: AgentSession, marker: string, startIndex: number): Usage {
	const own = ownWorkStart(session.messages, marker);
	return usageOfMessages(session.messages.slice(own < 0 ? startIndex : own));
}

function failure(error: string): StageSessionOutcome {
	return { ok: false, text: "", error, usage: zeroUsage() };
}
