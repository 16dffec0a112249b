module.exports = { ...require('../../jest.preset.cjs'), displayName: 'grpc-server', rootDir: __dirname };
