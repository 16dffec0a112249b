// `npm start`: runs the allocation app and the audit app, each as its own process (they can also run alone,
// see the README), with their output in this terminal. Ctrl-C or SIGTERM stops both gracefully; if one of
// them exits on its own, the other is stopped too and this exits with the first one's code.
import { spawn } from 'node:child_process';

const apps = ['allocation', 'audit'].map((name) => ({
  name,
  child: spawn(process.execPath, ['--enable-source-maps', `dist/apps/${name}/main.js`], { stdio: 'inherit' }),
}));

let exitCode;
let running = apps.length;
for (const { name, child } of apps) {
  child.on('exit', (code, signal) => {
    running--;
    if (exitCode === undefined) {
      exitCode = code ?? (signal ? 1 : 0);
      if (exitCode !== 0) console.error(`${name} exited with ${signal ?? code}; stopping the other app`);
      stopAll('SIGTERM');
    }
    if (running === 0) process.exit(exitCode);
  });
}

function stopAll(signal) {
  for (const { child } of apps) if (child.exitCode === null && child.signalCode === null) child.kill(signal);
}
process.on('SIGINT', () => stopAll('SIGINT'));
process.on('SIGTERM', () => stopAll('SIGTERM'));
