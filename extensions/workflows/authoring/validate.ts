// Checks workflow inputs and outputs against their TypeBox property maps and says, for every problem,
// what was expected and what arrived. Problems come back as data; callers decide how to fail.

import type { TProperties, TSchema } from "typebox";
import { Value } from "typebox/value";

/** Validates inputs strictly: unknown keys, missing required keys and wrong types are each a problem. */
export function checkInputs(properties: TProperties, value: unknown): string[] {
	return checkObject("input", properties, value);
}

/** Validates a run's outputs: undeclared keys, missing required keys, wrong types and non-JSON values.
 * `partial` (ctx.exit): missing keys are allowed, what is given must still be declared and of its type. */
export function checkOutputs(properties: TProperties, value: unknown, partial = false): string[] {
	const problems = checkObject("output", properties, value, partial);
	if (isRecord(value)) {
		for (const [key, item] of Object.entries(value)) {
			const where = findNonJson(item, key);
			if (where && key in properties) problems.push(`output "${key}" is not a JSON value (${where})`);
		}
	}
	return problems;
}

function checkObject(kind: "input" | "output", properties: TProperties, value: unknown, partial = false): string[] {
	if (!isRecord(value)) return [`expected an object of ${kind}s, got ${describeValue(value)}`];
	const problems: string[] = [];
	const declared = Object.keys(properties);
	for (const key of Object.keys(value)) {
		if (!(key in properties)) {
			const known = declared.length > 0 ? `expected one of: ${declared.join(", ")}` : `none are declared`;
			problems.push(`unknown ${kind} "${key}" (${known})`);
		}
	}
	for (const [key, schema] of Object.entries(properties)) {
		const item = value[key];
		if (item === undefined) {
			if (!isOptional(schema) && !partial)
				problems.push(`missing required ${kind} "${key}" (expected ${describeSchema(schema)})`);
			continue;
		}
		if (!Value.Check(schema, item)) {
			problems.push(`${kind} "${key}": expected ${describeSchema(schema)}, got ${describeValue(item)}`);
		}
	}
	return problems;
}

function isOptional(schema: TSchema): boolean {
	return (schema as { "~optional"?: boolean })["~optional"] === true;
}

/** A short human description of a schema: `string`, `"a" | "b"`, `array of integer`. */
export function describeSchema(schema: TSchema): string {
	const s = schema as Record<string, unknown>;
	if ("const" in s) return JSON.stringify(s.const);
	if (Array.isArray(s.enum)) return s.enum.map((v) => JSON.stringify(v)).join(" | ");
	if (Array.isArray(s.anyOf)) return (s.anyOf as TSchema[]).map(describeSchema).join(" | ");
	if (s.type === "array") return s.items ? `array of ${describeSchema(s.items as TSchema)}` : "array";
	if (s.type === "object") {
		const keys = s.properties ? Object.keys(s.properties as object) : [];
		return keys.length > 0 ? `object with ${keys.join(", ")}` : "object";
	}
	if (typeof s.type === "string") return s.type;
	if (Array.isArray(s.type)) return s.type.join(" | ");
	return "a value matching the schema";
}

/** A short description of a value: `string "abc"`, `number 3`, `array`. */
export function describeValue(value: unknown): string {
	if (value === null) return "null";
	if (Array.isArray(value)) return `array (${value.length} items)`;
	switch (typeof value) {
		case "string":
			return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
		case "number":
		case "boolean":
		case "bigint":
			return `${typeof value} ${String(value)}`;
		case "object":
			return isRecord(value) ? "object" : `${(value as object).constructor?.name ?? "object"} instance`;
		default:
			return typeof value;
	}
}

/** Returns where and what the first non-JSON part of a value is, or undefined when it is plain JSON. */
function findNonJson(value: unknown, path: string): string | undefined {
	if (value === null || typeof value === "string" || typeof value === "boolean") return undefined;
	if (typeof value === "number") return Number.isFinite(value) ? undefined : `${path} is ${value}`;
	if (Array.isArray(value)) {
		for (let i = 0; i < value.length; i++) {
			const found = findNonJson(value[i], `${path}[${i}]`);
			if (found) return found;
		}
		return undefined;
	}
	if (isRecord(value)) {
		for (const [key, item] of Object.entries(value)) {
			const found = findNonJson(item, `${path}.${key}`);
			if (found) return found;
		}
		return undefined;
	}
	return `${path} is ${describeValue(value)}`;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
	if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
	const proto = Object.getPrototypeOf(value);
	return proto === Object.prototype || proto === null;
}
