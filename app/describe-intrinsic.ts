/** Renders a resolved CloudFormation value for humans: `${Logical.Attr}` for what only a deploy knows. */
export function describeIntrinsic(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === null || typeof value !== 'object') return String(value);
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length !== 1) return JSON.stringify(value);
  const [fn, args] = entries[0];
  switch (fn) {
    case 'Ref':
      return `\${${String(args)}}`;
    case 'Fn::GetAtt': {
      const [resource, attribute] = args as [string, string];
      return `\${${resource}.${attribute}}`;
    }
    case 'Fn::Join': {
      const [separator, parts] = args as [string, unknown[]];
      return parts.map(describeIntrinsic).join(separator);
    }
    case 'Fn::Select': {
      const [index, list] = args as [number | string, unknown];
      const listEntries = list && typeof list === 'object' ? Object.entries(list as Record<string, unknown>) : [];
      if (listEntries.length === 1 && listEntries[0][0] === 'Fn::Split') {
        const [separator, source] = listEntries[0][1] as [string, unknown];
        return `\${split(${describeIntrinsic(source)}, '${separator}')[${index}]}`;
      }
      return `\${select(${index}, ${JSON.stringify(list)})}`;
    }
    default:
      return JSON.stringify(value);
  }
}
