// What kind of failure ended a stage's attempt, and whether a fallback model may fix it. A provider's failure
// reaches Pi only as an error message (Pi's own retry and context-overflow checks read the same text), so
// provider failures are told apart by their words; failures of our own (a timeout, a budget, no progress, a
// structured result never submitted) are named where they happen.

import { isContextOverflow } from "@mariozechner/pi-ai";

export type FailureKind =
	/** The provider refused the credentials (401, 403, an expired login). */
	| "auth"
	/** A quota, usage or session limit, or billing. */
	| "quota"
	| "unknown-model"
	/** The context did not fit, and Pi's compaction did not make it fit. */
	| "context-overflow"
	/** Overloaded, rate limited, a server or network error that Pi's own retries did not get past. */
	| "transient"
	/** The model answered nothing. */
	| "empty"
	/** No valid structured result after the corrections. */
	| "structured"
	/** The stage's time limit, or no output and no tool activity for too long. */
	| "timeout"
	| "budget"
	| "no-progress"
	| "aborted"
	/** Anything else the provider said (a bad request, say): another model is not expected to fix it. */
	| "other";

/** Failures a retry cannot fix but another model may: the stage moves on to its next fallback model. */
const ADVANCING: ReadonlySet<FailureKind> = new Set([
	"auth",
	"quota",
	"unknown-model",
	"context-overflow",
	"transient",
	"empty",
	"structured",
	"timeout",
]);

export function advancesToFallback(kind: FailureKind | undefined): boolean {
	return kind !== undefined && ADVANCING.has(kind);
}

/** Failures that say the provider will not serve this run until someone acts: its circuit opens. */
export function refusesProvider(kind: FailureKind | undefined): boolean {
	return kind === "auth" || kind === "quota";
}

const AUTH =
	/\b(401|403)\b|unauthori[sz]ed|forbidden|invalid.{0,20}(api.?key|token|credential)|authentication|no api key|api key not|expired.{0,20}(token|login|session|credential)|(log|sign).?in again|permission denied/i;
const QUOTA =
	/\b402\b|quota|usage.?limit|session.?limit|limit.?reached|insufficient.{0,20}(quota|credit|balance|funds)|billing|credit balance|out of credits|exceeded your current/i;
const UNKNOWN_MODEL =
	/model.{0,40}(not found|does not exist|unknown|unsupported|not available|is not supported)|unknown model|no such model|invalid model/i;
const TRANSIENT =
	/overloaded|rate.?limit|too many requests|\b429\b|\b50[0234]\b|service.?unavailable|server.?error|internal.?error|network|connection|socket hang up|fetch failed|timed? ?out|timeout|terminated|upstream|ECONNRESET|ETIMEDOUT/i;

/** The kind of a provider failure, from the error message of the assistant message that ended the attempt. */
export function classifyProviderError(
	message: {
		stopReason?: string;
		errorMessage?: string;
		usage?: { input?: number };
	},
	contextWindow?: number,
): FailureKind {
	const text = message.errorMessage ?? "";
	// Quota before auth: "429 ... usage limit" is a limit, and "403 ... quota" too.
	if (QUOTA.test(text)) return "quota";
	if (AUTH.test(text)) return "auth";
	if (isContextOverflow(message as Parameters<typeof isContextOverflow>[0], contextWindow)) return "context-overflow";
	if (UNKNOWN_MODEL.test(text)) return "unknown-model";
	if (TRANSIENT.test(text)) return "transient";
	return "other";
}
