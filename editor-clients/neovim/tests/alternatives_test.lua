-- Alternatives, the "thinking" status and acceptance figures with the real server: the
-- next/previous keys ask explicitly and cycle; accepting one is counted (spark/stats and
-- :checkhealth); a slow model shows "thinking" in the statusline component, then "ready".
-- The scripted model answers SPARK_EXPECT_ALTERNATIVES ('|'-separated, the main one first),
-- and SPARK_EXPECT_SLOW, after a stall, for a function named slow_pick.
local H = dofile(vim.env.SPARK_PLUGIN_DIR .. '/tests/helpers.lua')
local alternatives = vim.split(assert(vim.env.SPARK_EXPECT_ALTERNATIVES), '|', { plain = true })
local slow = assert(vim.env.SPARK_EXPECT_SLOW, 'SPARK_EXPECT_SLOW is not set')

H.run(function()
  local spark = require('spark_lsp')
  local states = H.record_states()
  -- No prefetch: model calls are counted.
  spark.setup({ settings = { completion = {
    debounceMs = 0, thinkingAfterMs = 300, prefetchOnAccept = false } } })
  vim.o.laststatus = 2
  vim.o.statusline = "%{v:lua.require'spark_lsp'.statusline()}"

  local prefix = '    return '
  local buf = H.open('pick.py', { 'def mul(a, b):', prefix }, 'python')
  local client = H.client(buf)
  H.ready(client)
  local ns = vim.api.nvim_create_namespace('nvim.lsp.inline_completion')
  --- The suggestion on screen (without Neovim's " (2/3)" hint).
  local function ghost(bufnr)
    local mark = vim.api.nvim_buf_get_extmarks(bufnr, ns, 0, -1, { details = true })[1]
    local chunks = mark and mark[4].virt_text
    return chunks and chunks[1] and chunks[1][1] or nil
  end
  local function key(lhs)
    return vim.fn.maparg(lhs, 'i', false, true).callback
  end
  local function stats()
    local reply = client:request_sync('spark/stats', vim.empty_dict(), 5000, buf)
    return assert(reply and reply.result, 'spark/stats answered')
  end

  vim.o.virtualedit = 'onemore'
  vim.api.nvim_win_set_cursor(0, { 2, #prefix })
  vim.api.nvim_exec_autocmds('InsertEnter', { buffer = buf, modeline = false })
  H.wait(10000, function() return ghost(buf) == alternatives[1] end, 'the main suggestion')
  local calls = stats().pipeline.counters.model_calls
  H.check(calls == 1, 'typing made one model call', calls)

  H.check(key('<M-]>')() == '', '<M-]> consumed the keypress')
  H.wait(5000, function() return ghost(buf) == alternatives[2] end, 'alternative 2 after <M-]>')
  H.ok('<M-]> asked explicitly and shows: ' .. alternatives[2])
  key('<M-]>')()
  H.wait(3000, function() return ghost(buf) == alternatives[3] end, 'alternative 3 after <M-]>')
  key('<M-]>')()
  H.wait(3000, function() return ghost(buf) == alternatives[1] end, 'the first again (wraps)')
  key('<M-[>')()
  H.wait(3000, function() return ghost(buf) == alternatives[3] end, 'back to 3 after <M-[>')
  key('<M-[>')()
  H.wait(3000, function() return ghost(buf) == alternatives[2] end, 'back to 2 after <M-[>')
  H.ok('cycled: ' .. table.concat(alternatives, ' -> '))

  H.check(key('<M-l>')() == '', '<M-l> accepted')
  H.wait(3000, function() return H.lines(buf)[2] == prefix .. alternatives[2] end,
    'the chosen alternative in the buffer')
  H.ok('accepted: ' .. H.lines(buf)[2])
  local total = H.wait(5000, function()
    local t = stats().acceptance.total
    return t.accepted == 1 and t or nil
  end, 'spark/stats to count the accept')
  H.check(total.shown == 1 and total.acceptanceRate == 1, 'one shown, one accepted', total)
  H.ok('acceptance: ' .. spark.format_acceptance(stats()))
  vim.cmd('silent checkhealth spark_lsp')
  local report = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\n')
  vim.cmd('bwipeout!')
  H.check(report:match('accepted 1 of 1 suggestion %(100%%%); p50 latency %d+ ms') ~= nil,
    ':checkhealth shows the acceptance rate and p50', report)

  -- A slow model: "thinking" once the request waited thinkingAfterMs, "ready" once answered.
  vim.cmd.stopinsert()
  local slow_buf = H.open('slow.py', { 'def slow_pick(a, b):', prefix }, 'python')
  local before = #states
  vim.api.nvim_win_set_cursor(0, { 2, #prefix })
  vim.api.nvim_exec_autocmds('InsertEnter', { buffer = slow_buf, modeline = false })
  H.wait(5000, function() return spark.statusline() == 'spark:thinking' end,
    'the statusline component to say thinking')
  H.check(vim.api.nvim_eval_statusline(vim.o.statusline, {}).str == 'spark:thinking',
    'the statusline shows spark:thinking')
  H.check(ghost(slow_buf) == nil, 'no suggestion yet while thinking')
  H.wait(8000, function() return ghost(slow_buf) == slow end, 'the slow suggestion')
  H.wait(3000, function() return spark.statusline() == 'spark:ready' end, 'ready again')
  H.check(vim.deep_equal(vim.list_slice(states, before + 1), { 'thinking', 'ready' }),
    'status went thinking, then ready (nothing else)', vim.list_slice(states, before + 1))
end)
