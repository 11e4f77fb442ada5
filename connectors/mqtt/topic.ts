/** MQTT topic filters ([MQTT-4.7]): `+` matches one level, `#` the rest (including the parent level). */

/** Whether `topic` matches `filter` ([MQTT-4.7.1-2], [MQTT-4.7.2-1]: `$`-topics do not match wildcards at the first level). */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  if (topic.startsWith('$') && (f[0] === '+' || f[0] === '#')) return false;
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/** Whether a topic (not a filter) contains wildcards ([MQTT-3.3.2-2]). */
export function hasWildcard(topic: string): boolean {
  return topic.includes('+') || topic.includes('#');
}
