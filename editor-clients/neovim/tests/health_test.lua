-- :checkhealth spark_lsp passes with the real server and model, and reports a missing
-- executable as an error.
local H = dofile(vim.env.SPARK_PLUGIN_DIR .. '/tests/helpers.lua')

local function checkhealth()
  vim.cmd('silent checkhealth spark_lsp')
  local text = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\n')
  vim.cmd('bwipeout!')
  return text
end

H.run(function()
  local spark = require('spark_lsp')
  spark.setup({})
  local report = checkhealth()
  io.stdout:write(report .. '\n')
  H.check(report:find('spark_lsp: server', 1, true) ~= nil, 'the report has the server section')
  H.check(report:find('OK executable: ', 1, true) ~= nil, 'executable found')
  H.check(report:match('OK version: spark%-lsp %d+%.%d+') ~= nil, 'version reported')
  H.check(report:find('OK model reachable', 1, true) ~= nil, 'model reachable')
  H.check(report:find('ERROR', 1, true) == nil, 'no errors')
  H.check(report:find('OK on: proposals are shown as virtual text; keys: accept <M-n>', 1, true)
    ~= nil, 'next edit reported with its keys')

  -- The model check uses the server's environment (cmd_env): a rejected key is an error.
  spark.setup({ cmd_env = { OPENAI_API_KEY = 'not-the-token' } })
  report = checkhealth()
  H.check(report:match('ERROR model not reachable: [^\n]*HTTP 401') ~= nil,
    'a rejected key is reported by the model check', report)
  H.check(report:find('not-the-token', 1, true) == nil, 'the key is not shown')

  spark.setup({ cmd = { 'spark-lsp-does-not-exist', '--stdio' } })
  report = checkhealth()
  H.check(report:find('ERROR `spark-lsp-does-not-exist` not found', 1, true) ~= nil,
    'a missing executable is an error', report)
end)
