-- Ghost text from the real server: shown as an extmark, accepted by the plugin's keymap;
-- then :SparkStatus and :SparkToggle. The scripted model answers every completion with
-- SPARK_EXPECT_COMPLETION.
local H = dofile(vim.env.SPARK_PLUGIN_DIR .. '/tests/helpers.lua')
local expected = assert(vim.env.SPARK_EXPECT_COMPLETION, 'SPARK_EXPECT_COMPLETION is not set')

H.run(function()
  local spark = require('spark_lsp')
  local events = H.record_states()
  spark.setup({ settings = { completion = { debounceMs = 0 } } })
  H.check(spark.has_inline_completion(), 'this Neovim has vim.lsp.inline_completion')

  local prefix = '    return '
  local buf = H.open('ops.py', {
    'def add(a, b):',
    '    return a + b',
    '',
    '',
    'def mul(a, b):',
    prefix,
  }, 'python')
  local client = H.client(buf)
  H.ok('client attached: ' .. client.name)
  H.check(client.server_capabilities.inlineCompletionProvider ~= nil,
    'server advertises inlineCompletionProvider')
  local status = H.ready(client)
  H.ok('spark/status: ' .. spark.format_status(status))
  H.check(vim.list_contains(events, 'ready'), 'User SparkStatus fired', events)
  H.check(spark.statusline() == 'spark:ready', 'statusline() shows the state', spark.statusline())
  H.check(vim.lsp.inline_completion.is_enabled({ bufnr = buf }),
    'inline completion is enabled for the buffer')
  local accept = vim.fn.maparg('<M-l>', 'i', false, true)
  H.check(accept.buffer == 1 and accept.callback ~= nil, 'accept key <M-l> is mapped in the buffer')

  -- Cursor after "return " (normal mode needs virtualedit to sit past the last character),
  -- then what entering insert mode does: the completor requests a suggestion.
  vim.o.virtualedit = 'onemore'
  vim.api.nvim_win_set_cursor(0, { 6, #prefix })
  vim.api.nvim_exec_autocmds('InsertEnter', { buffer = buf, modeline = false })

  local ns = vim.api.nvim_get_namespaces()['nvim.lsp.inline_completion']
  H.check(ns ~= nil, 'namespace nvim.lsp.inline_completion exists')
  local mark = H.wait(10000, function()
    return vim.api.nvim_buf_get_extmarks(buf, ns, 0, -1, { details = true })[1]
  end, 'ghost text (an extmark in nvim.lsp.inline_completion)')
  local shown = {}
  for _, chunk in ipairs(mark[4].virt_text or {}) do
    table.insert(shown, chunk[1])
  end
  local ghost = table.concat(shown)
  H.check(mark[2] == 5 and ghost == expected, 'ghost text shows the suggestion on line 6',
    { row = mark[2], ghost = ghost, expected = expected })
  H.check(H.lines(buf)[6] == prefix, 'the buffer is unchanged while the ghost text shows')

  -- <M-]> asks for alternatives and shows the next; <M-[> comes back to the first.
  local next_key = vim.fn.maparg('<M-]>', 'i', false, true)
  local prev_key = vim.fn.maparg('<M-[>', 'i', false, true)
  local function shown()
    local m = vim.api.nvim_buf_get_extmarks(buf, ns, 0, -1, { details = true })[1]
    return m and m[4].virt_text and m[4].virt_text[1][1]
  end
  H.check(next_key.callback() == '', '<M-]> acts on the shown suggestion')
  H.wait(3000, function() return shown() and shown() ~= expected end, 'an alternative after <M-]>')
  prev_key.callback()
  H.wait(3000, function() return shown() == expected end, 'the first suggestion after <M-[>')

  -- Accept through the mapped key's function (what pressing <M-l> runs).
  local typed = accept.callback()
  H.check(typed == '', 'the accept key consumed the keypress', typed)
  H.wait(3000, function() return H.lines(buf)[6] == prefix .. expected end,
    'the accepted suggestion in the buffer')
  H.ok('accepted: ' .. H.lines(buf)[6])
  H.check(#vim.api.nvim_buf_get_extmarks(buf, ns, 0, -1, {}) == 0, 'ghost text is gone')
  H.check(accept.callback() == '<M-l>', 'without a suggestion the key types itself')
  H.check(next_key.callback() == '<M-]>', 'without a suggestion <M-]> types itself')
  H.check(prev_key.callback() == '<M-[>', 'without a suggestion <M-[> types itself')

  -- :SparkStatus echoes the last status.
  local echoed = vim.api.nvim_exec2('SparkStatus', { output = true }).output
  H.check(echoed:match('^spark: %a+') ~= nil and echoed:find(status.model, 1, true) ~= nil,
    ':SparkStatus shows state and model', echoed)

  -- :SparkToggleBuffer: no ghost text and no request for this buffer until it is back on.
  local function requests()
    local reply = client:request_sync('spark/stats', vim.empty_dict(), 5000, buf)
    return reply and reply.result and reply.result.pipeline.counters.requests or 0
  end
  vim.cmd('SparkToggleBuffer')
  H.check(not spark.buffer_enabled(buf) and not vim.lsp.inline_completion.is_enabled({ bufnr = buf }),
    ':SparkToggleBuffer turned suggestions off in the buffer')
  H.check(spark.statusline() == 'spark:ready:off', 'statusline() says the buffer is off',
    spark.statusline())
  local before = requests()
  vim.api.nvim_exec_autocmds('InsertEnter', { buffer = buf, modeline = false })
  vim.api.nvim_buf_set_lines(buf, 5, 6, true, { prefix .. 'x' })
  vim.wait(500)
  H.check(requests() == before, 'no completion request while the buffer is off',
    { before = before, after = requests() })
  H.check(#vim.api.nvim_buf_get_extmarks(buf, ns, 0, -1, {}) == 0, 'no ghost text while off')
  vim.cmd('SparkToggleBuffer')
  H.check(spark.buffer_enabled(buf) and vim.lsp.inline_completion.is_enabled({ bufnr = buf }),
    ':SparkToggleBuffer turned suggestions back on')
  H.ok(':SparkToggleBuffer switched the buffer off and on')
  H.check(spark.format_status(status):find('ws://127.0.0.1', 1, true) ~= nil,
    'the status names the endpoint URL', spark.format_status(status))

  -- :SparkToggle flips the server switch (spark/stats reports it).
  local function enabled()
    local reply = client:request_sync('spark/stats', vim.empty_dict(), 5000, buf)
    return reply and reply.result and reply.result.completionsEnabled
  end
  H.check(enabled() == true, 'completions are on before :SparkToggle')
  vim.cmd('SparkToggle')
  H.wait(5000, function() return enabled() == false end, 'completions off after :SparkToggle')
  H.ok(':SparkToggle turned completions off')
end)
