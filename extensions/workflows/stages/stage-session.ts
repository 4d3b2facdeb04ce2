// Runs one stage as a real Pi agent session in this process: its own transcript file, the host's models
// and credentials (through the model host, on either Pi line), in-memory settings, an optional fork of an
// earlier stage's transcript.
// Outcomes are data: a provider error, an abort or a bad tool list come back as `ok: false`.

import { renameSync } from "node:fs";
import { dirname } from "node:path";
import {
	type AgentSession,
	createAgentSession,
	type ExtensionUIContext,
	type ModelRegistry,
	SessionManager,
	SettingsManager,
} from "@mariozechner/pi-coding-agent";
import type { Usage } from "../authoring/types.js";
import { zeroUsage } from "../authoring/usage.js";
import { modelHost } from "./model-host.js";
import type { ResolvedModel } from "./model-spec.js";
import { createStageResourceLoader, type StageResourceOptions } from "./stage-resources.js";
import { ownWorkStart } from "./transcript.js";
import { usageOfMessages } from "./usage.js";

/** Live progress of a stage, for widgets and status lines. */
export type StageActivity = { type: "tool_start"; tool: string } | { type: "tool_end"; tool: string; isError: boolean };

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
}

export interface StageSessionOutcome {
	ok: boolean;
	/** Final assistant text (empty when the stage failed before answering). */
	text: string;
	error?: string;
	aborted?: boolean;
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
	const abort = () => {
		session.abort().catch((error: unknown) => {
			spec.onWarning?.(`aborting the session failed: ${error instanceof Error ? error.message : String(error)}`);
		});
	};
	spec.signal.addEventListener("abort", abort, { once: true });
	const unsubscribe = session.subscribe((event) => {
		if (!spec.onActivity) return;
		if (event.type === "tool_execution_start") spec.onActivity({ type: "tool_start", tool: event.toolName });
		else if (event.type === "tool_execution_end") {
			spec.onActivity({ type: "tool_end", tool: event.toolName, isError: event.isError });
		}
	});
	spec.onSteerable?.(async (message) => {
		await session.steer(message);
	});
	try {
		let message = spec.continueWith ?? spec.prompt;
		while (true) {
			await session.prompt(message, { expandPromptTemplates: false });
			// A steer that arrived as the agent loop ended was never delivered: deliver it now.
			const late = session.clearQueue().steering;
			if (late.length === 0 || spec.signal.aborted) break;
			message = late.join("\n\n");
		}
	} catch (error) {
		const message = error instanceof Error ? error.message : String(error);
		return { ok: false, text: "", error: message, usage: usageSince(session, spec.promptMarker, startIndex) };
	} finally {
		spec.onSteerable?.(undefined);
		unsubscribe();
		spec.signal.removeEventListener("abort", abort);
	}
	const usage = usageSince(session, spec.promptMarker, startIndex);
	const last = session.messages.slice(startIndex).findLast((message) => message.role === "assistant");
	if (spec.signal.aborted || last?.stopReason === "aborted") {
		return { ok: false, text: "", aborted: true, error: "stopped", usage };
	}
	if (!last) return { ok: false, text: "", error: "the model returned no answer", usage };
	if (last.stopReason === "error") {
		return { ok: false, text: "", error: last.errorMessage ?? "the provider returned an error", usage };
	}
	return { ok: true, text: session.getLastAssistantText() ?? "", usage };
}

/** The stage's spend: everything after its own first prompt, so a continued transcript counts whole. */
function usageSince(session: AgentSession, marker: string, startIndex: number): Usage {
	const own = ownWorkStart(session.messages, marker);
	return usageOfMessages(session.messages.slice(own < 0 ? startIndex : own));
}

function failure(error: string): StageSessionOutcome {
	return { ok: false, text: "", error, usage: zeroUsage() };
}
