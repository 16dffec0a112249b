import { createLogger } from './logger';

function capture(): { lines: () => Record<string, unknown>[]; write: (line: string) => void } {
  let text = '';
  return {
    write: (line) => void (text += line),
    lines: () =>
      text
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

describe('createLogger', () => {
  it('writes one JSON object per line, naming the service', () => {
    const out = capture();
    const logger = createLogger('audit', 'info', out);
    logger.info({ expired: 3 }, 'expired reservations released');
    logger.error({ err: new Error('boom') }, 'round failed');
    const [info, error] = out.lines();
    expect(info).toMatchObject({ service: 'audit', level: 30, expired: 3, msg: 'expired reservations released' });
    expect(error).toMatchObject({ service: 'audit', level: 50, msg: 'round failed', err: { message: 'boom' } });
  });

  it('leaves out what is below its level', () => {
    const out = capture();
    const logger = createLogger('audit', 'warn', out);
    logger.info('not written');
    logger.warn('written');
    expect(out.lines().map((line) => line['msg'])).toEqual(['written']);
  });
});
