/**
 * Dates and times on every page, written the way the visitor's browser writes them (its locale and time zone), so
 * a table, a chart and the demo's phone never disagree on the format. Intl formatters are built once.
 */
type When = string | number | Date;

const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
const timeFormat = new Intl.DateTimeFormat(undefined, { timeStyle: "medium" });
const dayFormat = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });
const minuteFormat = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });

/** A date and time, e.g. "7 Dec 2026, 14:05:09" (en-GB) or "Dec 7, 2026, 2:05:09 PM" (en-US). */
export const formatDateTime = (when: When): string => dateTimeFormat.format(new Date(when));

/** A time of day with seconds, e.g. "14:05:09" or "2:05:09 PM". */
export const formatTime = (when: When): string => timeFormat.format(new Date(when));

/** A chart tick: the time of day when the ticks are less than a day apart, else the day. */
export const formatTick = (when: When, stepMs: number): string =>
  (stepMs < 86_400_000 ? minuteFormat : dayFormat).format(new Date(when));
