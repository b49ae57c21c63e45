/** Reads the JUnit XML that node's junit reporter writes: totals, and each skip with its reason. */
export interface JunitCounts {
  tests: number;
  failed: number;
  skipped: number;
  /** Each skipped test with the reason it gave (which says how to turn it on). */
  skips: { name: string; reason: string }[];
}

/** Test cases, failures and skips in a JUnit XML report written by node's junit reporter. */
export function countJunit(xml: string): JunitCounts {
  const count = (re: RegExp) => (xml.match(re) ?? []).length;
  const skips: JunitCounts['skips'] = [];
  for (const match of xml.matchAll(/<testcase\b([^>]*)>\s*<skipped\b([^>]*)\/?>/g)) {
    const attr = (attrs: string, key: string) =>
      unescapeXml(new RegExp(`\\b${key}="([^"]*)"`).exec(attrs)?.[1] ?? '');
    skips.push({
      name: attr(match[1] ?? '', 'name'),
      reason: attr(match[2] ?? '', 'message') || 'no reason given',
    });
  }
  return {
    tests: count(/<testcase\b/g),
    failed: count(/<failure\b/g),
    skipped: count(/<skipped\b/g),
    skips,
  };
}

function unescapeXml(text: string): string {
  return text
    .replace(/&amp;(quot|apos|lt|gt|amp|#\d+);/g, '&$1;') // node's reporter escapes some entities twice
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)))
    .replace(/&amp;/g, '&');
}
