--- :checkhealth spark_lsp

local M = {}

local health = vim.health

--- Milliseconds `spark-lsp doctor` may take (it may start the bundled model server first).
M.doctor_timeout_ms = 30000

local function run(argv, env, timeout_ms)
  local ok, proc = pcall(vim.system, argv, { text = true, env = env })
  if not ok then
    return nil, tostring(proc)
  end
  local result = proc:wait(timeout_ms)
  if result.code == 124 then -- vim.system's code for a process killed at the timeout
    return nil, ('timed out after %d s'):format(timeout_ms / 1000)
  end
  return result
end

local function last_line(text)
  local lines = vim.split(vim.trim(text or ''), '\n')
  return lines[#lines] or ''
end

--- The environment `spark-lsp doctor` needs to test what the editor's server will use: the
--- server's cmd_env, then the endpoint and model from setup() settings as the variables the
--- server also reads. The server's environment wins over settings, so a variable that is
--- already set is left alone.
local function doctor_env(opts)
  local env = vim.deepcopy(opts.cmd_env or {})
  local function default(name, value)
    if type(value) == 'string' and value ~= '' and env[name] == nil and vim.env[name] == nil then
      env[name] = value
    end
  end
  local model = type(opts.settings.model) == 'table' and opts.settings.model or {}
  default('SPARK_LSP_ENDPOINT', model.endpoint)
  default('SPARK_LSP_MODEL', model.name)
  if type(model.apiKeyEnv) == 'string' and model.apiKeyEnv ~= 'OPENAI_API_KEY' then
    local key = env[model.apiKeyEnv] or vim.env[model.apiKeyEnv]
    if key then
      env.OPENAI_API_KEY = key -- doctor reads the default variable
    end
  end
  return next(env) and env or nil
end

local function check_neovim()
  health.start('spark_lsp: Neovim')
  local v = vim.version()
  local version = ('%d.%d.%d'):format(v.major, v.minor, v.patch)
  if vim.fn.has('nvim-0.11') == 0 then
    health.error('Neovim ' .. version .. ' is too old', { 'spark_lsp needs Neovim 0.11 or newer' })
    return false
  end
  if require('spark_lsp').has_inline_completion() then
    health.ok('Neovim ' .. version .. ' has vim.lsp.inline_completion (ghost text)')
  else
    health.warn('Neovim ' .. version .. ' has no vim.lsp.inline_completion',
      { 'Suggestions appear in the completion menu instead; Neovim 0.12 shows ghost text' })
  end
  return true
end

local function check_server(opts)
  health.start('spark_lsp: server')
  if type(opts.cmd) ~= 'table' then
    health.info('cmd is a function (custom transport): executable checks skipped')
    return nil
  end
  local exe = vim.fn.exepath(opts.cmd[1])
  if exe == '' then
    health.error(('`%s` not found on $PATH'):format(opts.cmd[1]), {
      'Install it: pip install spark-lsp (or pip install -e . in a clone)',
      'Or set cmd = { "/full/path/to/spark-lsp", "--stdio" } in setup()',
    })
    return nil
  end
  health.ok('executable: ' .. exe)
  local result, why = run({ exe, '--version' }, nil, 10000)
  if result and result.code == 0 then
    health.ok('version: ' .. vim.trim(result.stdout))
  else
    health.error('`spark-lsp --version` failed: ' .. (why or last_line(result.stderr)))
  end
  return exe
end

local function check_model(opts, exe)
  health.start('spark_lsp: model')
  local result, why = run({ exe, 'doctor' }, doctor_env(opts), M.doctor_timeout_ms)
  if not result then
    health.error('`spark-lsp doctor` did not finish: ' .. why)
    return
  end
  local out = vim.trim(result.stdout or '')
  if result.code == 0 then
    health.ok('model reachable (`spark-lsp doctor`)')
    for _, line in ipairs(vim.split(out, '\n')) do
      if line:match('^%s+%S') then
        health.info(vim.trim(line))
      end
    end
  else
    local reason = last_line(out ~= '' and out or result.stderr)
    health.error('model not reachable: ' .. reason,
      { 'Run `spark-lsp doctor` in a terminal for details' })
  end
end

local function check_clients()
  health.start('spark_lsp: client')
  local spark = require('spark_lsp')
  local clients = spark.clients()
  if #clients == 0 then
    health.info('no spark-lsp client running (open a file of a configured filetype)')
    return
  end
  for _, client in ipairs(clients) do
    local status = spark.status[client.id]
    if status and status.state == 'error' then
      health.error(('client %d: %s'):format(client.id, spark.format_status(status)))
    elseif status then
      health.ok(('client %d: %s'):format(client.id, spark.format_status(status)))
    else
      health.info(('client %d: no status received yet'):format(client.id))
    end
    local reply = client:request_sync(spark.STATS_METHOD, vim.empty_dict(), 2000)
    local acceptance = reply and reply.result and spark.format_acceptance(reply.result)
    if acceptance then
      health.info(('client %d: %s'):format(client.id, acceptance))
    end
  end
end

local function describe_keys(keymaps)
  if not keymaps then
    return 'no keymaps'
  end
  local parts = {}
  for _, action in ipairs({ 'accept', 'jump', 'dismiss' }) do
    if keymaps[action] then
      table.insert(parts, action .. ' ' .. keymaps[action])
    end
  end
  return #parts > 0 and ('keys: ' .. table.concat(parts, ', ')) or 'no keymaps'
end

local function check_next_edit(opts)
  health.start('spark_lsp: next edit')
  if not opts.next_edit then
    health.info('off (setup option next_edit = false)')
    return
  end
  local settings = type(opts.settings.nextEdit) == 'table' and opts.settings.nextEdit or {}
  if settings.enabled == false then
    health.warn('the plugin opts in, but settings.nextEdit.enabled = false turns it off')
    return
  end
  health.ok('on: proposals are shown as virtual text; ' .. describe_keys(opts.next_edit_keymaps))
  for _, client in ipairs(require('spark_lsp').clients()) do
    local experimental = client.server_capabilities and client.server_capabilities.experimental
    local spark = type(experimental) == 'table' and experimental.spark or nil
    if type(spark) == 'table' and spark.nextEdit then
      health.ok(('client %d: the server offers spark/nextEdit'):format(client.id))
    else
      health.warn(('client %d: the server does not offer spark/nextEdit'):format(client.id),
        { 'Update spark-lsp (pip install -U spark-lsp)' })
    end
  end
end

function M.check()
  if not check_neovim() then
    return
  end
  local spark = require('spark_lsp')
  local opts = spark.options
  if not opts then
    health.warn('require("spark_lsp").setup() has not been called; checking the defaults')
    opts = require('spark_lsp.config').resolve({})
  end
  local exe = check_server(opts)
  if exe then
    check_model(opts, exe)
  end
  check_clients()
  check_next_edit(opts)
end

return M
