module.exports = {
  ...require('../../jest.preset.cjs'),
  displayName: 'allocation',
  rootDir: __dirname,
  testTimeout: 60000,
};
