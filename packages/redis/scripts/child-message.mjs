// The next IPC message of one type from a child process (the scripts' children report 'ready', 'fused', 'fetched'…).
export const nextMessage = (child, type) =>
  new Promise((resolve) =>
    child.on('message', function on(m) {
      if (m.type === type) {
        child.off('message', on)
        resolve(m)
      }
    }),
  )
