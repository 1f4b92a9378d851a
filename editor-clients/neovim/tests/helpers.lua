-- Shared helpers for the headless Neovim tests (nvim --headless --clean -l tests/<name>.lua).
--
-- Protocol with the pytest driver (tests/clients/test_neovim.py): each check prints
-- "ok: <what>"; the script ends with "PASS" (exit 0) or "FAIL: <why>" (exit 1). There is no
-- skip: a capability the server should have and does not is a failure. The environment gives SPARK_PLUGIN_DIR and SPARK_TEST_DIR (a scratch
-- workspace); SPARK_LSP_ENDPOINT and OPENAI_API_KEY point the server at a scripted model.

local H = {}

H.plugin_dir = assert(vim.env.SPARK_PLUGIN_DIR, 'SPARK_PLUGIN_DIR is not set')
H.dir = assert(vim.env.SPARK_TEST_DIR, 'SPARK_TEST_DIR is not set')
H.timeout_ms = tonumber(vim.env.SPARK_TEST_TIMEOUT_MS) or 25000

vim.opt.rtp:prepend(H.plugin_dir)
vim.o.swapfile = false
vim.o.shadafile = 'NONE'

--- Messages the server showed (window/showMessage), to assert on.
H.shown = {}

local function out(line)
  io.stdout:write(line .. '\n')
  io.stdout:flush()
end

local function stop_clients()
  local clients = vim.lsp.get_clients()
  for _, client in ipairs(clients) do
    client:stop()
  end
  vim.wait(3000, function()
    for _, client in ipairs(clients) do
      if not client:is_stopped() then
        return false
      end
    end
    return true
  end, 20)
  for _, client in ipairs(clients) do
    client:stop(true)
  end
end

function H.finish(code, line)
  if line then
    out(line)
  end
  pcall(stop_clients)
  os.exit(code)
end

function H.fail(msg)
  H.finish(1, 'FAIL: ' .. msg)
end

function H.pass()
  H.finish(0, 'PASS')
end

function H.ok(msg)
  out('ok: ' .. msg)
end

--- Fail unless `cond` holds.
function H.check(cond, msg, detail)
  if not cond then
    H.fail(msg .. (detail ~= nil and (' (' .. vim.inspect(detail) .. ')') or ''))
  end
  H.ok(msg)
end

--- Wait up to `ms` for `cond()`, failing with `what` on timeout. Returns cond's value.
function H.wait(ms, cond, what)
  local value
  local done = vim.wait(ms, function()
    value = cond()
    return value
  end, 20)
  if not done then
    H.fail('timed out after ' .. ms .. ' ms waiting for ' .. what)
  end
  return value
end

--- Run `fn` protected: any Lua error ends the test as FAIL with its message and traceback.
function H.run(fn)
  vim.defer_fn(function()
    H.fail('the whole test took longer than ' .. H.timeout_ms .. ' ms')
  end, H.timeout_ms)
  local ok, err = xpcall(fn, debug.traceback)
  if not ok then
    H.fail(tostring(err))
  end
  H.pass()
end

--- Record window/showMessage from the server (plus the default behaviour).
function H.capture_messages()
  local default = vim.lsp.handlers['window/showMessage']
  vim.lsp.handlers['window/showMessage'] = function(err, params, ctx)
    table.insert(H.shown, params.message)
    return default(err, params, ctx)
  end
end

--- Write `lines` to `name` in the scratch workspace and edit it.
function H.open(name, lines, filetype)
  local path = H.dir .. '/' .. name
  vim.fn.writefile(lines, path)
  vim.cmd.edit(vim.fn.fnameescape(path))
  local bufnr = vim.api.nvim_get_current_buf()
  if filetype and vim.bo[bufnr].filetype ~= filetype then
    vim.bo[bufnr].filetype = filetype
  end
  return bufnr
end

--- The spark client attached to `bufnr`, once initialized.
function H.client(bufnr, ms)
  return H.wait(ms or 10000, function()
    local client = require('spark_lsp').clients(bufnr)[1]
    return client and client.initialized and client or nil
  end, 'the spark-lsp client to attach and initialize')
end

--- Wait for spark/status state `ready`.
function H.ready(client, ms)
  return H.wait(ms or 10000, function()
    local status = require('spark_lsp').status[client.id]
    return status and status.state == 'ready' and status or nil
  end, 'spark/status "ready"')
end

--- The states of every `spark/status` from now on, in order (a table filled as they come).
function H.record_states()
  local states = {}
  vim.api.nvim_create_autocmd('User', {
    pattern = 'SparkStatus',
    callback = function(args) table.insert(states, args.data.state) end,
  })
  return states
end

function H.lines(bufnr)
  return vim.api.nvim_buf_get_lines(bufnr, 0, -1, true)
end

return H
